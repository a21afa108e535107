// Shared bases: everything common to all five programs (issue 2 §3), must-support aligned with
// US Core 6.1.0 (CarePlan, Encounter, ServiceRequest) and SDOHCC Consent (Consent). US Core and SDOHCC
// cannot be loaded offline, so the bases derive from R4. They do NOT declare compliesWithProfile: the
// package neither depends on US Core nor is validated against it, so the alignment is stated in the
// descriptions only (issue 16).

RuleSet: ProgramCategorySlice
* category ^slicing.discriminator.type = #pattern
* category ^slicing.discriminator.path = "$this"
* category ^slicing.rules = #open
* category ^slicing.description = "Slices by coding system"
* category contains program 1..1 MS
* category ^short = "Categories; one names the program (shared base)"
* category[program] ^short = "The program this resource belongs to (bh-program; shared base)"
* category[program] ^definition = "A coding https://fhiradapter.org/fhir/CodeSystem/bh-program|{program id} naming the program (program ids: ../shared/seeds/README.md)."
* category[program] ^patternCodeableConcept.coding[0].system = "https://fhiradapter.org/fhir/CodeSystem/bh-program"
* category[program] from BHProgramVS (required)

Profile: BHEncounter
Parent: Encounter
Id: bh-encounter
Title: "BH program contact (base)"
Description: "A contact of a behavioral-health program: what all five program Encounter profiles share (shared base; fhiradapter design Program contact). Must-support aligned with US Core Encounter 6.1.0."
* ^status = #draft
* ^abstract = false
* obeys bh-enc-1
* extension contains
    BHBilling named billing 0..1 MS and
    BHServiceSetting named serviceSetting 0..1 MS
* extension ^short = "Extensions: billing line, service setting (fhiradapter design Extensions)"
* extension[billing] ^short = "Billing line of this contact (fhiradapter design ext-billing)"
* extension[serviceSetting] ^short = "Where the service was delivered (fhiradapter design ext-service-setting)"
* extension contains BHPlaceOfService named placeOfService 0..1 MS
* extension[placeOfService] ^short = "CMS place-of-service code of the contact, as on its claim line (fhiradapter design Place of service)"
* identifier MS
* identifier.system 1..1 MS
* identifier.system ^short = "Identifier namespace (US Core Encounter 6.1.0: 1..1)"
* identifier.value 1..1 MS
* identifier.value ^short = "Identifier value (US Core Encounter 6.1.0: 1..1)"
* identifier ^short = "Business identifier; system and value both present (US Core Encounter 6.1.0)"
* status MS
* status ^short = "Counted contacts are finished (shared base: status)"
* class MS
* class from BHEncounterClassVS (required)
* class ^short = "AMB | HH | FLD | VR (shared base: class v3 ActCode AMB, HH, FLD, VR)"
* type 1..* MS
* type ^slicing.discriminator.type = #pattern
* type ^slicing.discriminator.path = "$this"
* type ^slicing.rules = #open
* type ^slicing.description = "Slices by coding system: contact mode, contact type"
* type contains contactMode 1..1 MS and contactType 0..1 MS
* type ^short = "Contact mode (exactly one) and contact type (shared base; fhiradapter design Program contact)"
* type[contactMode] ^short = "Contact mode: face-to-face | telehealth | phone | collateral (shared base)"
* type[contactMode] ^patternCodeableConcept.coding[0].system = "https://fhiradapter.org/fhir/CodeSystem/bh-contact-mode"
* type[contactMode] from BHContactModeVS (required)
* type[contactType] ^short = "Purpose of the contact (bh-contact-type; fhiradapter design Program contact)"
* type[contactType] ^patternCodeableConcept.coding[0].system = "https://fhiradapter.org/fhir/CodeSystem/bh-contact-type"
* type[contactType] from BHContactTypeVS (required)
* serviceType 1..1 MS
* serviceType ^short = "The program of this contact (shared base: Encounter.serviceType)"
* serviceType.coding 1..* MS
* serviceType.coding ^slicing.discriminator.type = #pattern
* serviceType.coding ^slicing.discriminator.path = "$this"
* serviceType.coding ^slicing.rules = #open
* serviceType.coding ^slicing.description = "Slices by coding system (program profiles add the code)"
* serviceType.coding ^short = "Codings: the bh-program one is required (shared base)"
* serviceType.coding contains program 1..1 MS
* serviceType.coding[program] ^short = "bh-program coding (shared base)"
* serviceType.coding[program] ^patternCoding.system = "https://fhiradapter.org/fhir/CodeSystem/bh-program"
* serviceType.coding[program] from BHProgramVS (required)
* serviceType.coding[program].code 1..1
* serviceType.coding[program].code ^short = "The program id (shared base)"
* subject 1..1 MS
* subject only Reference(Patient)
* subject ^short = "The member (shared base: subject (Patient))"
* participant 1..* MS
* participant ^short = "Who delivered the contact (shared base: at least one participant.individual)"
* participant.type MS
* participant.type from BHEncounterParticipantTypeVS (extensible)
* participant.type ^short = "Role in the contact: PPRF performer; RESP the supervisor of credentialed staff (DC DMH MHRS Community Support Conditions of Payment, §3418.12; fhiradapter design)"
* participant.period MS
* participant.individual 1..1 MS
* participant.individual only Reference(Practitioner or PractitionerRole or RelatedPerson)
* participant.individual ^short = "Who took part (shared base: participant.individual; US Core 6.1.0 must-support)"
* period 1..1 MS
* period.start 1..1 MS
* period.start ^short = "When the contact started (shared base: period.start)"
* period ^short = "Contact period (shared base: period.start)"
* reasonCode MS
* reasonReference MS
// hospitalization.dischargeDisposition is not must-support here (US Core marks it for admissions): a
// program contact is an outpatient or community visit, never an admission; hospital, jail and detention
// stays are separate, unprofiled Encounters (fhiradapter design Stay).
* location.location MS
* serviceProvider 1..1 MS
* serviceProvider only Reference(Organization)
* serviceProvider ^short = "The provider agency (shared base: serviceProvider)"

Profile: BHCarePlan
Parent: CarePlan
Id: bh-careplan
Title: "BH program plan (base)"
Description: "A program plan: what all five program CarePlan profiles share (shared base; fhiradapter design Plan). Must-support aligned with US Core CarePlan 6.1.0 and eLTSS 2.0.0."
* ^status = #draft
* ^abstract = false
* obeys bh-cp-1
// terminationKind and partOf are must-support only in ma-csp-careplan: the CCA CSP specification is the
// policy that distinguishes planned from unplanned termination and has a crisis prevention plan that is
// part of the service plan; the other programs have one plan type per profile.
* extension contains BHTerminationKind named terminationKind 0..1
* extension ^short = "Extensions: termination kind (fhiradapter design Extensions)"
* extension[terminationKind] ^short = "Planned or unplanned end of services (fhiradapter design ext-termination-kind)"
* text MS
* status MS
* status ^short = "Plan status (shared base: status)"
* intent MS
* intent ^short = "plan (shared base: intent)"
* category 1..* MS
* insert ProgramCategorySlice
* category contains assessPlan 1..1 MS and planType 0..1 MS
* category[assessPlan] = $USCoreCPCat#assess-plan
* category[assessPlan] ^short = "US Core 6.1.0 AssessPlan category slice (1..1 in US Core 6.1.0)"
* category[planType] ^short = "The named plan of the program's policy (bh-plan-type; fhiradapter design Plan)"
* category[planType] ^patternCodeableConcept.coding[0].system = "https://fhiradapter.org/fhir/CodeSystem/bh-plan-type"
* category[planType] from BHPlanTypeVS (required)
* subject 1..1 MS
* subject only Reference(Patient)
* subject ^short = "The member (shared base: subject)"
* period 1..1 MS
* period.start 1..1 MS
* period ^short = "Plan period; end = planned discharge/termination (shared base: period.start; fhiradapter design Plan)"
* period.start ^short = "Plan effective date (shared base: period.start; eLTSS Plan Effective Date)"
* period.end MS
* created MS
* author 1..1 MS
* author ^short = "Who wrote the plan (shared base: author; eLTSS Support Planner)"
* careTeam MS
* addresses MS
* goal MS
* partOf ^short = "A crisis prevention plan points to its service plan (fhiradapter design Plan; eLTSS partOf)"
* activity 1..* MS
* activity ^short = "Planned services (shared base: at least one activity)"
* activity.detail 1..1 MS
* activity.detail ^short = "What is planned (shared base: activity.detail.code)"
* activity.detail.code 1..1 MS
* activity.detail.code ^short = "The service component (bound per program; shared base)"
* activity.detail.status MS

Profile: BHConsent
Parent: Consent
Id: bh-consent
Title: "BH program consent (base)"
Description: "A member's privacy consent to disclose program data to a recipient (payer / care team): what all five program Consent profiles share (shared base; fhiradapter design Consent). Aligned with SDOH Clinical Care Consent (US Core has no Consent profile)."
* ^status = #draft
* ^abstract = false
* obeys bh-con-1 and bh-con-2 and bh-con-3 and bh-con-4
* status MS
* status ^short = "Consent status (shared base: status)"
* scope MS
* scope = $ConsentScope#patient-privacy
* scope ^short = "patient-privacy (shared base: scope)"
* category MS
* insert ProgramCategorySlice
* category contains loinc 1..1 MS
* category[loinc] = $LOINC#59284-0
* category[loinc] ^short = "LOINC 59284-0 Patient Consent (shared base: category)"
* patient 1..1 MS
* patient only Reference(Patient)
* patient ^short = "The member (shared base: patient; SDOHCC Consent patient 1..1)"
* dateTime 1..1 MS
* dateTime ^short = "When the consent was given (shared base: dateTime; SDOHCC Consent dateTime 1..1)"
* organization 1..1 MS
* organization only Reference(Organization)
* organization ^short = "Custodian agency (shared base: organization; SDOHCC Consent organization 1..1)"
* source[x] MS
* policy MS
* policy ^short = "Policy or policyRule is required (ppc-1; shared base). 42 CFR Part 2: policy.uri to the eCFR part"
* policyRule MS
* provision 1..1 MS
* provision ^short = "The permit (shared base: provision.type, period, actor, purpose)"
* provision.type 1..1 MS
* provision.type = #permit
* provision.type ^short = "permit (shared base: provision.type)"
* provision.period 1..1 MS
* provision.period ^short = "How long the consent holds (shared base: provision.period)"
* provision.actor 1..* MS
* provision.actor ^slicing.discriminator.type = #pattern
* provision.actor ^slicing.discriminator.path = "role"
* provision.actor ^slicing.rules = #open
* provision.actor ^slicing.description = "Slices by role"
* provision.actor ^short = "Who the consent is about: at least the recipient (shared base)"
* provision.actor contains recipient 1..* MS
* provision.actor[recipient] ^short = "The recipient: payer / care team (shared base: provision.actor with role IRCP)"
* provision.actor[recipient].role = $ParticipationType#IRCP
* provision.actor[recipient].role ^short = "IRCP: information recipient (shared base)"
* provision.actor[recipient].reference MS
* provision.purpose 1..* MS
* provision.purpose ^short = "Purpose of use, v3-ActReason (shared base: provision.purpose)"
* provision.securityLabel MS

Profile: BHServiceRequest
Parent: ServiceRequest
Id: bh-servicerequest
Title: "BH program referral (base)"
Description: "A referral to (or order for) a program: what all five program ServiceRequest profiles share (shared base; fhiradapter design Referral). Must-support aligned with US Core ServiceRequest 6.1.0."
* ^status = #draft
* ^abstract = false
* obeys bh-sr-1
// Must-support only in mt-cmp-servicerequest: the level of impairment is the Montana CMP medical-necessity
// criterion; no other program's policy uses it.
* extension contains BHLevelOfImpairment named levelOfImpairment 0..*
* extension ^short = "Extensions: level of impairment (fhiradapter design Extensions)"
* extension[levelOfImpairment] ^short = "Level-of-impairment findings (fhiradapter design ext-level-of-impairment)"
* status MS
* status ^short = "Request status (shared base: status)"
* intent MS
* intent ^short = "order for a referral (shared base: intent)"
* category 1..* MS
* insert ProgramCategorySlice
* code 1..1 MS
* code ^short = "What is requested (shared base: code; US Core code 1..1)"
* subject MS
* subject only Reference(Patient)
* subject ^short = "The member (shared base: subject)"
* occurrence[x] MS
* authoredOn 1..1 MS
* authoredOn ^short = "When the referral was received (shared base: authoredOn)"
* requester 1..1 MS
* requester ^short = "Who referred (shared base: requester)"
* reasonCode MS
* reasonCode ^short = "Why: eligibility determinations (shared base: reasonCode or reasonReference, bh-sr-1)"
* reasonReference MS
* supportingInfo MS

Invariant: bh-sr-1
Description: "A referral states at least one reason: reasonCode or reasonReference (shared base)."
Expression: "reasonCode.exists() or reasonReference.exists()"
Severity: #error

// Root-level restatements of requirements that sit inside backbone elements (Encounter.participant,
// CarePlan.activity, Consent.provision). The element cardinalities above already say the same; these
// let FHIRPath-only validators (e.g. Medplum 4.5.2, which does not apply profile constraints inside
// backbone elements) see them too.
Invariant: bh-enc-1
Description: "At least one participant.individual (shared base)."
Expression: "participant.individual.exists()"
Severity: #error

Invariant: bh-cp-1
Description: "Every activity has detail.code (shared base: activity.detail.code 1..1)."
Expression: "activity.all(detail.code.exists())"
Severity: #error

Invariant: bh-con-1
Description: "provision.type is permit (shared base)."
Expression: "provision.type = 'permit'"
Severity: #error

Invariant: bh-con-2
Description: "provision.period is stated (shared base)."
Expression: "provision.period.exists()"
Severity: #error

Invariant: bh-con-3
Description: "At least one provision.actor has role IRCP, the recipient (shared base)."
Expression: "provision.actor.where(role.coding.where(system = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType' and code = 'IRCP').exists()).exists()"
Severity: #error

Invariant: bh-con-4
Description: "At least one provision.purpose (shared base)."
Expression: "provision.purpose.exists()"
Severity: #error
