// PerformCare Targeted Case Management (ICM, RC, BCM), policy CM-040: 004_55627d390f551fcd.txt

RuleSet: TCMTypeCodingSlice(element)
* {element} ^slicing.discriminator.type = #pattern
* {element} ^slicing.discriminator.path = "$this"
* {element} ^slicing.rules = #open
* {element} ^short = "Codings: one names the TCM type (PerformCare Policy CM-040 Targeted Case Management Role Expectations, Definitions)"
* {element} contains tcmType 1..1 MS
* {element}[tcmType] ^short = "TCM type: icm | rc | bcm (PerformCare Policy CM-040 Targeted Case Management Role Expectations, Definitions: Targeted Case Management)"
* {element}[tcmType] ^patternCoding.system = "https://fhiradapter.org/fhir/CodeSystem/pa-tcm-type"
* {element}[tcmType] from PATCMTypeVS (required)
* {element}[tcmType].code 1..1
* {element}[tcmType].code ^short = "icm | rc | bcm (PerformCare Policy CM-040 Targeted Case Management Role Expectations, Definitions)"

Profile: PATCMEncounter
Parent: BHEncounter
Id: pa-tcm-encounter
Title: "PA TCM contact"
Description: "A Targeted Case Management contact, naming its TCM type (PerformCare Policy CM-040 Targeted Case Management Role Expectations)."
* ^status = #draft
* serviceType.coding[program] = $BHProgram#pa-tcm
* serviceType.coding[program] ^short = "pa-tcm (PerformCare Policy CM-040 Targeted Case Management Role Expectations, Definitions)"
* insert TCMTypeCodingSlice(serviceType.coding)

Profile: PATCMCarePlan
Parent: BHCarePlan
Id: pa-tcm-careplan
Title: "PA TCM service plan (ISP)"
Description: "The TCM service plan with its TCM type (PerformCare Policy CM-040 Targeted Case Management Role Expectations, 2.1, 3.1.6)."
* ^status = #draft
* category[program] = $BHProgram#pa-tcm
* category[program] ^short = "pa-tcm (PerformCare Policy CM-040 Targeted Case Management Role Expectations, Definitions)"
* category[planType] 1..1
* category[planType] = $PlanType#isp
* category[planType] ^short = "ISP: discharge planning is part of routine TCM service planning; TCM coordinates the recovery plan (PerformCare Policy CM-040 Targeted Case Management Role Expectations, 2.1, 3.1.6)"
* category ^short = "Categories: assess-plan, program, plan type ISP, TCM type (PerformCare Policy CM-040 Targeted Case Management Role Expectations, Definitions, 2.1)"
* category contains tcmType 1..1 MS
* category[tcmType] ^short = "TCM type: icm | rc | bcm (PerformCare Policy CM-040 Targeted Case Management Role Expectations, Definitions: Targeted Case Management)"
* category[tcmType] ^patternCodeableConcept.coding[0].system = "https://fhiradapter.org/fhir/CodeSystem/pa-tcm-type"
* category[tcmType] from PATCMTypeVS (required)
* activity.detail.code from PATCMServiceComponentVS (required)
* activity.detail.code ^short = "A TCM role (PerformCare Policy CM-040 Targeted Case Management Role Expectations, 3.1.1-3.1.12)"

Profile: PATCMServiceRequest
Parent: BHServiceRequest
Id: pa-tcm-servicerequest
Title: "PA TCM referral"
Description: "A TCM request or authorization with its TCM type (PerformCare Policy CM-040 Targeted Case Management Role Expectations, Policy; Definitions)."
* ^status = #draft
* category[program] = $BHProgram#pa-tcm
* category[program] ^short = "pa-tcm (PerformCare Policy CM-040 Targeted Case Management Role Expectations, Definitions)"
* code ^short = "The TCM type requested (PerformCare Policy CM-040 Targeted Case Management Role Expectations, Definitions; fhiradapter design Referral)"
* code.coding 1..*
* insert TCMTypeCodingSlice(code.coding)

Profile: PATCMConsent
Parent: BHConsent
Id: pa-tcm-consent
Title: "PA TCM consent"
Description: "A TCM member's consent to disclose program data to the recipient."
* ^status = #draft
* category[program] = $BHProgram#pa-tcm
* category[program] ^short = "pa-tcm (PerformCare Policy CM-040 Targeted Case Management Role Expectations, Definitions)"
