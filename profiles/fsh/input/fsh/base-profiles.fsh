// Shared bases: everything common to all five programs (issue 2 §3), must-support aligned with
// US Core 6.1.0 (CarePlan, Encounter, ServiceRequest) and SDOHCC Consent (Consent). US Core and SDOHCC
// cannot be loaded offline, so the bases derive from R4 and declare compliesWithProfile instead.

RuleSet: CompliesWith(url)
* ^extension[0].url = "http://hl7.org/fhir/StructureDefinition/structuredefinition-compliesWithProfile"
* ^extension[0].valueCanonical = "{url}"

RuleSet: ProgramCategorySlice
* category ^slicing.discriminator.type = #pattern
* category ^slicing.discriminator.path = "$this"
* category ^slicing.rules = #open
* category ^slicing.description = "Slices by coding system"
* category contains program 1..1 MS
* category ^short = "Categories; one names the program (issue 2 §3)"
* category[program] ^short = "The program this resource belongs to (bh-program; issue 2 §3)"
* category[program] ^definition = "A coding https://fhiradapter.org/fhir/CodeSystem/bh-program|{program id} naming the program (program ids: ../shared/seeds/README.md)."
* category[program] ^patternCodeableConcept.coding[0].system = "https://fhiradapter.org/fhir/CodeSystem/bh-program"
* category[program] from BHProgramVS (required)

Profile: BHEncounter
Parent: Encounter
Id: bh-encounter
Title: "BH program contact (base)"
Description: "A contact of a behavioral-health program: what all five program Encounter profiles share (issue 2 §3; design.md Program contact). Must-support aligned with US Core Encounter 6.1.0."
* insert CompliesWith(http://hl7.org/fhir/us/core/StructureDefinition/us-core-encounter|6.1.0)
* ^status = #active
* ^abstract = false
* obeys bh-enc-1
* extension contains
    BHBilling named billing 0..1 MS and
    BHServiceSetting named serviceSetting 0..1 MS
* extension ^short = "Extensions: billing line, service setting (design.md Extensions)"
* extension[billing] ^short = "Billing line of this contact (design.md ext-billing)"
* extension[serviceSetting] ^short = "Where the service was delivered (design.md ext-service-setting)"
* identifier MS
* identifier.system 1..1 MS
* identifier.system ^short = "Identifier namespace (US Core Encounter 6.1.0: 1..1)"
* identifier.value 1..1 MS
* identifier.value ^short = "Identifier value (US Core Encounter 6.1.0: 1..1)"
* identifier ^short = "Business identifier; system and value both present (US Core Encounter 6.1.0)"
* status MS
* status ^short = "Counted contacts are finished (issue 2 §3: status)"
* class MS
* class from BHEncounterClassVS (required)
* class ^short = "AMB | HH | FLD | VR (issue 2 §3: class v3 ActCode AMB, HH, FLD, VR)"
* type 1..* MS
* type ^slicing.discriminator.type = #pattern
* type ^slicing.discriminator.path = "$this"
* type ^slicing.rules = #open
* type ^slicing.description = "Slices by coding system: contact mode, contact type"
* type contains contactMode 1..1 MS and contactType 0..1 MS
* type ^short = "Contact mode (exactly one) and contact type (issue 2 §3; design.md Program contact)"
* type[contactMode] ^short = "Contact mode: face-to-face | telehealth | phone | collateral (issue 2 §3)"
* type[contactMode] ^patternCodeableConcept.coding[0].system = "https://fhiradapter.org/fhir/CodeSystem/bh-contact-mode"
* type[contactMode] from BHContactModeVS (required)
* type[contactType] ^short = "Purpose of the contact (bh-contact-type; design.md Program contact)"
* type[contactType] ^patternCodeableConcept.coding[0].system = "https://fhiradapter.org/fhir/CodeSystem/bh-contact-type"
* type[contactType] from BHContactTypeVS (required)
* serviceType 1..1 MS
* serviceType ^short = "The program of this contact (issue 2 §3: Encounter.serviceType)"
* serviceType.coding 1..* MS
* serviceType.coding ^slicing.discriminator.type = #pattern
* serviceType.coding ^slicing.discriminator.path = "$this"
* serviceType.coding ^slicing.rules = #open
* serviceType.coding ^slicing.description = "Slices by coding system (program profiles add the code)"
* serviceType.coding ^short = "Codings: the bh-program one is required (issue 2 §3)"
* serviceType.coding contains program 1..1 MS
* serviceType.coding[program] ^short = "bh-program coding (issue 2 §3)"
* serviceType.coding[program] ^patternCoding.system = "https://fhiradapter.org/fhir/CodeSystem/bh-program"
* serviceType.coding[program] from BHProgramVS (required)
* serviceType.coding[program].code 1..1
* serviceType.coding[program].code ^short = "The program id (issue 2 §3)"
* subject 1..1 MS
* subject only Reference(Patient)
* subject ^short = "The member (issue 2 §3: subject (Patient))"
* participant 1..* MS
* participant ^short = "Who delivered the contact (issue 2 §3: at least one participant.individual)"
* participant.type MS
* participant.type from BHEncounterParticipantTypeVS (extensible)
* participant.type ^short = "Role in the contact: PPRF performer; RESP the supervisor of credentialed staff (001_531c4a09cf20a817.txt §3418.12; design.md)"
* participant.period MS
* participant.individual 1..1 MS
* participant.individual only Reference(Practitioner or PractitionerRole or RelatedPerson)
* participant.individual ^short = "Who took part (issue 2 §3: participant.individual; US Core 6.1.0 must-support)"
* period 1..1 MS
* period.start 1..1 MS
* period.start ^short = "When the contact started (issue 2 §3: period.start)"
* period ^short = "Contact period (issue 2 §3: period.start)"
* reasonCode MS
* reasonReference MS
* hospitalization.dischargeDisposition MS
* location.location MS
* serviceProvider 1..1 MS
* serviceProvider only Reference(Organization)
* serviceProvider ^short = "The provider agency (issue 2 §3: serviceProvider)"

Profile: BHCarePlan
Parent: CarePlan
Id: bh-careplan
Title: "BH program plan (base)"
Description: "A program plan: what all five program CarePlan profiles share (issue 2 §3; design.md Plan). Must-support aligned with US Core CarePlan 6.1.0 and eLTSS 2.0.0."
* insert CompliesWith(http://hl7.org/fhir/us/core/StructureDefinition/us-core-careplan|6.1.0)
* ^status = #active
* ^abstract = false
* obeys bh-cp-1
* extension contains BHTerminationKind named terminationKind 0..1 MS
* extension ^short = "Extensions: termination kind (design.md Extensions)"
* extension[terminationKind] ^short = "Planned or unplanned end of services (design.md ext-termination-kind)"
* text MS
* status MS
* status ^short = "Plan status (issue 2 §3: status)"
* intent MS
* intent ^short = "plan (issue 2 §3: intent)"
* category 1..* MS
* insert ProgramCategorySlice
* category contains assessPlan 1..1 MS and planType 0..1 MS
* category[assessPlan] = $USCoreCPCat#assess-plan
* category[assessPlan] ^short = "US Core 6.1.0 AssessPlan category slice (1..1 in US Core 6.1.0)"
* category[planType] ^short = "The named plan of the program's policy (bh-plan-type; design.md Plan)"
* category[planType] ^patternCodeableConcept.coding[0].system = "https://fhiradapter.org/fhir/CodeSystem/bh-plan-type"
* category[planType] from BHPlanTypeVS (required)
* subject 1..1 MS
* subject only Reference(Patient)
* subject ^short = "The member (issue 2 §3: subject)"
* period 1..1 MS
* period.start 1..1 MS
* period ^short = "Plan period; end = planned discharge/termination (issue 2 §3: period.start; design.md Plan)"
* period.start ^short = "Plan effective date (issue 2 §3: period.start; eLTSS Plan Effective Date)"
* period.end MS
* created MS
* author 1..1 MS
* author ^short = "Who wrote the plan (issue 2 §3: author; eLTSS Support Planner)"
* careTeam MS
* addresses MS
* goal MS
* partOf MS
* partOf ^short = "A crisis prevention plan points to its service plan (design.md Plan; eLTSS partOf)"
* activity 1..* MS
* activity ^short = "Planned services (issue 2 §3: at least one activity)"
* activity.detail 1..1 MS
* activity.detail ^short = "What is planned (issue 2 §3: activity.detail.code)"
* activity.detail.code 1..1 MS
* activity.detail.code ^short = "The service component (bound per program; issue 2 §3)"
* activity.detail.status MS

Profile: BHConsent
Parent: Consent
Id: bh-consent
Title: "BH program consent (base)"
Description: "A member's privacy consent to disclose program data to a recipient (payer / care team): what all five program Consent profiles share (issue 2 §3; design.md Consent). Aligned with SDOH Clinical Care Consent (US Core has no Consent profile)."
* ^status = #active
* ^abstract = false
* obeys bh-con-1 and bh-con-2 and bh-con-3 and bh-con-4
* status MS
* status ^short = "Consent status (issue 2 §3: status)"
* scope MS
* scope = $ConsentScope#patient-privacy
* scope ^short = "patient-privacy (issue 2 §3: scope)"
* category MS
* insert ProgramCategorySlice
* category contains loinc 1..1 MS
* category[loinc] = $LOINC#59284-0
* category[loinc] ^short = "LOINC 59284-0 Patient Consent (issue 2 §3: category)"
* patient 1..1 MS
* patient only Reference(Patient)
* patient ^short = "The member (issue 2 §3: patient; SDOHCC Consent patient 1..1)"
* dateTime 1..1 MS
* dateTime ^short = "When the consent was given (issue 2 §3: dateTime; SDOHCC Consent dateTime 1..1)"
* organization 1..1 MS
* organization only Reference(Organization)
* organization ^short = "Custodian agency (issue 2 §3: organization; SDOHCC Consent organization 1..1)"
* source[x] MS
* policy MS
* policy ^short = "Policy or policyRule is required (ppc-1; issue 2 §3). 42 CFR Part 2: policy.uri to the eCFR part"
* policyRule MS
* provision 1..1 MS
* provision ^short = "The permit (issue 2 §3: provision.type, period, actor, purpose)"
* provision.type 1..1 MS
* provision.type = #permit
* provision.type ^short = "permit (issue 2 §3: provision.type)"
* provision.period 1..1 MS
* provision.period ^short = "How long the consent holds (issue 2 §3: provision.period)"
* provision.actor 1..* MS
* provision.actor ^slicing.discriminator.type = #pattern
* provision.actor ^slicing.discriminator.path = "role"
* provision.actor ^slicing.rules = #open
* provision.actor ^slicing.description = "Slices by role"
* provision.actor ^short = "Who the consent is about: at least the recipient (issue 2 §3)"
* provision.actor contains recipient 1..* MS
* provision.actor[recipient] ^short = "The recipient: payer / care team (issue 2 §3: provision.actor with role IRCP)"
* provision.actor[recipient].role = $ParticipationType#IRCP
* provision.actor[recipient].role ^short = "IRCP: information recipient (issue 2 §3)"
* provision.actor[recipient].reference MS
* provision.purpose 1..* MS
* provision.purpose ^short = "Purpose of use, v3-ActReason (issue 2 §3: provision.purpose)"
* provision.securityLabel MS

Profile: BHServiceRequest
Parent: ServiceRequest
Id: bh-servicerequest
Title: "BH program referral (base)"
Description: "A referral to (or order for) a program: what all five program ServiceRequest profiles share (issue 2 §3; design.md Referral). Must-support aligned with US Core ServiceRequest 6.1.0."
* insert CompliesWith(http://hl7.org/fhir/us/core/StructureDefinition/us-core-servicerequest|6.1.0)
* ^status = #active
* ^abstract = false
* obeys bh-sr-1
* extension contains BHLevelOfImpairment named levelOfImpairment 0..* MS
* extension ^short = "Extensions: level of impairment (design.md Extensions)"
* extension[levelOfImpairment] ^short = "Level-of-impairment findings (design.md ext-level-of-impairment)"
* status MS
* status ^short = "Request status (issue 2 §3: status)"
* intent MS
* intent ^short = "order for a referral (issue 2 §3: intent)"
* category 1..* MS
* insert ProgramCategorySlice
* code 1..1 MS
* code ^short = "What is requested (issue 2 §3: code; US Core code 1..1)"
* subject MS
* subject only Reference(Patient)
* subject ^short = "The member (issue 2 §3: subject)"
* occurrence[x] MS
* authoredOn 1..1 MS
* authoredOn ^short = "When the referral was received (issue 2 §3: authoredOn)"
* requester 1..1 MS
* requester ^short = "Who referred (issue 2 §3: requester)"
* reasonCode MS
* reasonCode ^short = "Why: eligibility determinations (issue 2 §3: reasonCode or reasonReference, bh-sr-1)"
* reasonReference MS
* supportingInfo MS

Invariant: bh-sr-1
Description: "A referral states at least one reason: reasonCode or reasonReference (issue 2 §3)."
Expression: "reasonCode.exists() or reasonReference.exists()"
Severity: #error

// Root-level restatements of requirements that sit inside backbone elements (Encounter.participant,
// CarePlan.activity, Consent.provision). The element cardinalities above already say the same; these
// let FHIRPath-only validators (e.g. Medplum 4.5.2, which does not apply profile constraints inside
// backbone elements) see them too.
Invariant: bh-enc-1
Description: "At least one participant.individual (issue 2 §3)."
Expression: "participant.individual.exists()"
Severity: #error

Invariant: bh-cp-1
Description: "Every activity has detail.code (issue 2 §3: activity.detail.code 1..1)."
Expression: "activity.all(detail.code.exists())"
Severity: #error

Invariant: bh-con-1
Description: "provision.type is permit (issue 2 §3)."
Expression: "provision.type = 'permit'"
Severity: #error

Invariant: bh-con-2
Description: "provision.period is stated (issue 2 §3)."
Expression: "provision.period.exists()"
Severity: #error

Invariant: bh-con-3
Description: "At least one provision.actor has role IRCP, the recipient (issue 2 §3)."
Expression: "provision.actor.where(role.coding.where(system = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType' and code = 'IRCP').exists()).exists()"
Severity: #error

Invariant: bh-con-4
Description: "At least one provision.purpose (issue 2 §3)."
Expression: "provision.purpose.exists()"
Severity: #error
