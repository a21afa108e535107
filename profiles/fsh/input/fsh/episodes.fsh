// Program enrollment (EpisodeOfCare) and the member's payer coverage (Coverage): the episode is what
// the rules read enrollment and discharge from (a revised plan is no discharge; the weeks between two
// enrollments are not enrolled). Colorado BHA precedent: program enrollment as EpisodeOfCare.

RuleSet: ProgramTypeSlice
* type 1..* MS
* type ^slicing.discriminator.type = #pattern
* type ^slicing.discriminator.path = "$this"
* type ^slicing.rules = #open
* type ^slicing.description = "Slices by coding system"
* type ^short = "Types; one names the program (shared base)"
* type contains program 1..1 MS
* type[program] ^short = "The program of this enrollment (bh-program; shared base)"
* type[program] ^patternCodeableConcept.coding[0].system = "https://fhiradapter.org/fhir/CodeSystem/bh-program"
* type[program] from BHProgramVS (required)

Profile: BHEpisodeOfCare
Parent: EpisodeOfCare
Id: bh-episodeofcare
Title: "BH program enrollment (base)"
Description: "One enrollment of a member in a behavioral-health program, from admission to discharge: what all five program EpisodeOfCare profiles share (shared base; fhiradapter design Program episode). A member enrolled twice has two episodes; the time between them is not enrolled."
* ^status = #draft
* ^abstract = false
* obeys bh-eoc-1 and bh-eoc-2
* identifier MS
* status MS
* status ^short = "active while enrolled; finished once discharged (shared base)"
* statusHistory MS
* statusHistory ^short = "The enrollment's statuses with their periods (shared base)"
* insert ProgramTypeSlice
* diagnosis MS
* diagnosis ^short = "The diagnosis the enrollment is for (a Condition coded in ICD-10-CM; fhiradapter design Program episode)"
* diagnosis.condition MS
* diagnosis.condition only Reference(Condition)
* diagnosis.role MS
* patient MS
* patient ^short = "The member (shared base: patient)"
* managingOrganization 1..1 MS
* managingOrganization only Reference(Organization)
* managingOrganization ^short = "The team or agency that holds the enrollment (shared base)"
* period 1..1 MS
* period.start 1..1 MS
* period ^short = "Enrollment period: start = admission to the program, end = discharge (shared base)"
* period.start ^short = "Admission to the program (shared base)"
* period.end MS
* period.end ^short = "Discharge from the program; absent while enrolled (shared base)"
* referralRequest MS
* referralRequest ^short = "The referral the enrollment answers (shared base)"
* careManager MS
* careManager only Reference(Practitioner)
* careManager ^short = "The member's case manager or primary clinician (shared base)"

Invariant: bh-eoc-1
Description: "A finished enrollment has its discharge date: status finished implies period.end (shared base)."
Expression: "status = 'finished' implies period.end.exists()"
Severity: #error

Invariant: bh-eoc-2
Description: "An active enrollment has no discharge date yet: status active implies no period.end (shared base)."
Expression: "status = 'active' implies period.end.empty()"
Severity: #error

Profile: MTCMPEpisodeOfCare
Parent: BHEpisodeOfCare
Id: mt-cmp-episodeofcare
Title: "MT CMP enrollment"
Description: "One enrollment in the Community Maintenance Program; weekly quality contacts and team meetings are owed in every week of it (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (3), (4))."
* ^status = #draft
* type[program] = $BHProgram#mt-cmp
* type[program] ^short = "mt-cmp (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Definition)"

Profile: MTIMREpisodeOfCare
Parent: BHEpisodeOfCare
Id: mt-imr-episodeofcare
Title: "MT IMR enrollment"
Description: "One enrollment in Illness Management and Recovery (Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery)."
* ^status = #draft
* type[program] = $BHProgram#mt-imr
* type[program] ^short = "mt-imr (Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Definition)"

Profile: DCCSEpisodeOfCare
Parent: BHEpisodeOfCare
Id: dc-cs-episodeofcare
Title: "DC Community Support enrollment"
Description: "One enrollment in MHRS Community Support (DC DMH MHRS Community Support Conditions of Payment, §3418)."
* ^status = #draft
* type[program] = $BHProgram#dc-cs
* type[program] ^short = "dc-cs (DC DMH MHRS Community Support Conditions of Payment, §3418.1)"

Profile: MACSPEpisodeOfCare
Parent: BHEpisodeOfCare
Id: ma-csp-episodeofcare
Title: "MA CSP enrollment"
Description: "One enrollment in the Community Support Program, from the referral to the planned or unplanned termination (CCA Performance Specification #010 Community Support Program, Components of Service)."
* ^status = #draft
* type[program] = $BHProgram#ma-csp
* type[program] ^short = "ma-csp (CCA Performance Specification #010 Community Support Program, Covered Services)"

Profile: PATCMEpisodeOfCare
Parent: BHEpisodeOfCare
Id: pa-tcm-episodeofcare
Title: "PA TCM enrollment"
Description: "One TCM enrollment with its TCM type; its period.end is the TCM discharge the pre-discharge meeting and the discharge summary are timed from (PerformCare Policy CM-040 Targeted Case Management Role Expectations, 2.2, 2.4)."
* ^status = #draft
* type[program] = $BHProgram#pa-tcm
* type[program] ^short = "pa-tcm (PerformCare Policy CM-040 Targeted Case Management Role Expectations, Definitions)"
* type contains tcmType 1..1 MS
* type ^short = "Types: the program and the TCM type (PerformCare Policy CM-040 Targeted Case Management Role Expectations, Definitions)"
* type[tcmType] ^short = "TCM type: icm | rc | bcm (PerformCare Policy CM-040 Targeted Case Management Role Expectations, Definitions: Targeted Case Management)"
* type[tcmType] ^patternCodeableConcept.coding[0].system = "https://fhiradapter.org/fhir/CodeSystem/pa-tcm-type"
* type[tcmType] from PATCMTypeVS (required)

Profile: BHCoverage
Parent: Coverage
Id: bh-coverage
Title: "BH member coverage (shared)"
Description: "The member's Medicaid or plan coverage: the payer's member id, the payer, the plan and the coverage period (shared base; fhiradapter design Coverage; aligned with the CARIN Blue Button Coverage member-id identifier)."
* ^status = #draft
* ^abstract = false
* identifier 1..* MS
* identifier ^slicing.discriminator.type = #pattern
* identifier ^slicing.discriminator.path = "type"
* identifier ^slicing.rules = #open
* identifier ^slicing.description = "Slices by identifier type"
* identifier ^short = "Identifiers; one is the payer's member id (shared base)"
* identifier contains memberId 1..1 MS
* identifier[memberId] ^short = "The payer's member id (v2-0203 MB; shared base, as CARIN Blue Button)"
* identifier[memberId].type 1..1
* identifier[memberId].type = $V2IdType#MB
* identifier[memberId].type ^short = "MB member number (shared base)"
* identifier[memberId].type from BHCoverageIdentifierTypeVS (extensible)
* identifier[memberId].system 1..1 MS
* identifier[memberId].system ^short = "The payer's member-id namespace (shared base)"
* identifier[memberId].value 1..1 MS
* identifier[memberId].value ^short = "The member id (shared base)"
* status MS
* subscriberId MS
* subscriberId ^short = "The payer's member id, as on the member's card (shared base)"
* beneficiary MS
* beneficiary ^short = "The member (shared base: beneficiary)"
* payor 1..1 MS
* payor only Reference(Organization)
* payor ^short = "The payer (shared base)"
* period 1..1 MS
* period.start 1..1 MS
* period ^short = "Coverage period (shared base)"
* period.start ^short = "Coverage start (shared base)"
* class MS
* class ^slicing.discriminator.type = #pattern
* class ^slicing.discriminator.path = "type"
* class ^slicing.rules = #open
* class ^slicing.description = "Slices by class type"
* class ^short = "Plan classes (shared base)"
* class contains plan 0..1 MS
* class[plan] ^short = "The payer's plan (coverage-class plan; shared base)"
* class[plan].type = $CoverageClass#plan
* class[plan].type ^short = "plan (shared base)"
* class[plan].value MS
* class[plan].name MS

ValueSet: BHCoverageIdentifierTypeVS
Id: bh-coverage-identifier-type
Title: "Coverage member-id identifier type"
Description: "The member number (v2-0203 MB) that marks the payer's member id on a Coverage, as CARIN Blue Button does (the base identifier-type value set has no member number)."
* ^status = #draft
* $V2IdType#MB "Member Number"
