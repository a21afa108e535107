// Commonwealth Care Alliance Community Support Program (CSP), PS #010: 002_a91a28d9256cacc7.txt

ValueSet: MACSPPlanTypeVS
Id: ma-csp-plan-type
Title: "CCA CSP plan types"
Description: "CSP treatment/service plan, crisis prevention plan, aftercare plan (CCA Performance Specification #010 Community Support Program, Assessment, Treatment/Recovery Planning and Documentation; Discharge Planning)."
* insert LocalVS(ma-csp-plan-type)
* $PlanType#csp-service-plan
* $PlanType#crisis-prevention-plan
* $PlanType#aftercare-plan

Profile: MACSPEncounter
Parent: BHEncounter
Id: ma-csp-encounter
Title: "CCA CSP contact"
Description: "A CSP contact: face-to-face, phone, telehealth or collateral (CCA Performance Specification #010 Community Support Program, Components of Service)."
* ^status = #draft
* serviceType.coding[program] = $BHProgram#ma-csp
* serviceType.coding[program] ^short = "ma-csp (CCA Performance Specification #010 Community Support Program, Covered Services)"
* type[contactMode] ^short = "face-to-face | phone | telehealth | collateral: the contacts CSP documents (CCA Performance Specification #010 Community Support Program, Components of Service)"
* obeys ma-csp-enc-1
* extension[billing] ^short = "Claim line: a billable line carries its HCPCS code and may carry the usual charge (CCA Performance Specification #010 Community Support Program, Billing Procedures; invariant ma-csp-enc-1)"

Invariant: ma-csp-enc-1
Description: "A billable CSP line names the service with HCPCS coding (CCA Performance Specification #010 Community Support Program, Billing Procedures)."
Expression: "extension('https://fhiradapter.org/fhir/StructureDefinition/ext-billing').where(extension('billable').value = true).all(extension('code').exists())"
Severity: #error

Profile: MACSPCarePlan
Parent: BHCarePlan
Id: ma-csp-careplan
Title: "CCA CSP plan"
Description: "The CSP treatment/service plan, or the crisis prevention plan that is part of it (CCA Performance Specification #010 Community Support Program, Assessment, Treatment/Recovery Planning and Documentation)."
* ^status = #draft
* obeys ma-csp-cp-1 and ma-csp-cp-2
* category[program] = $BHProgram#ma-csp
* category[program] ^short = "ma-csp (CCA Performance Specification #010 Community Support Program, Covered Services)"
* category ^short = "Categories: assess-plan, program, CSP plan type (CCA Performance Specification #010 Community Support Program, Assessment, Treatment/Recovery Planning and Documentation)"
* category[planType] 1..1
* category[planType] from MACSPPlanTypeVS (required)
* category[planType] ^short = "csp-service-plan | crisis-prevention-plan | aftercare-plan (CCA Performance Specification #010 Community Support Program, Assessment, Treatment/Recovery Planning and Documentation; Discharge Planning)"
* partOf MS
* partOf ^short = "A crisis prevention plan is part of the CSP service plan (CCA Performance Specification #010 Community Support Program, Components of Service: development and/or updating of crisis prevention plan; invariant ma-csp-cp-1)"
* extension[terminationKind] MS
* extension[terminationKind] ^short = "Planned (30 days notice) or unplanned (1 business day) termination (CCA Performance Specification #010 Community Support Program, Components of Service; invariant ma-csp-cp-2)"
* activity.detail.code from MACSPServiceComponentVS (required)
* activity.detail.code ^short = "A required CSP service component (CCA Performance Specification #010 Community Support Program, Components of Service)"

Invariant: ma-csp-cp-1
Description: "A crisis prevention plan points to the CSP service plan it belongs to (CCA Performance Specification #010 Community Support Program, Components of Service; fhiradapter design Plan)."
Expression: "category.coding.where(system = 'https://fhiradapter.org/fhir/CodeSystem/bh-plan-type' and code = 'crisis-prevention-plan').exists() implies partOf.exists()"
Severity: #error

Invariant: ma-csp-cp-2
Description: "A terminated plan (termination kind stated) has its end date (CCA Performance Specification #010 Community Support Program, Components of Service: termination notice)."
Expression: "extension('https://fhiradapter.org/fhir/StructureDefinition/ext-termination-kind').exists() implies period.end.exists()"
Severity: #error

Profile: MACSPServiceRequest
Parent: BHServiceRequest
Id: ma-csp-servicerequest
Title: "CCA CSP referral"
Description: "A referral to CSP; authoredOn is when the referral was received, which starts the 24-hour contact clock (CCA Performance Specification #010 Community Support Program, Assessment, Treatment/Recovery Planning and Documentation)."
* ^status = #draft
* category[program] = $BHProgram#ma-csp
* category[program] ^short = "ma-csp (CCA Performance Specification #010 Community Support Program, Covered Services)"
* code = $BHProgram#ma-csp
* code ^short = "The program requested: ma-csp (CCA Performance Specification #010 Community Support Program, Covered Services; fhiradapter design Referral)"
* authoredOn ^short = "When the referral was made: contact within 24 hours, needs assessment within 2 weeks (CCA Performance Specification #010 Community Support Program, Assessment, Treatment/Recovery Planning and Documentation)"
* requester ^short = "The referral source the CSP contacts (CCA Performance Specification #010 Community Support Program, Assessment, Treatment/Recovery Planning and Documentation)"

Profile: MACSPConsent
Parent: BHConsent
Id: ma-csp-consent
Title: "CCA CSP consent"
Description: "A CSP member's consent to share with CCA's Care Team and other providers (CCA Performance Specification #010 Community Support Program, Components of Service: 'If the Member consents')."
* ^status = #draft
* category[program] = $BHProgram#ma-csp
* category[program] ^short = "ma-csp (CCA Performance Specification #010 Community Support Program, Covered Services)"
* provision.actor[recipient] ^short = "The recipient, e.g. CCA Care Team (CCA Performance Specification #010 Community Support Program, Components of Service; Discharge Planning: with consent)"
