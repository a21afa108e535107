// DC Community Support, MHRS section 3418: 001_531c4a09cf20a817.txt (Comment [bjb..] lines are margin notes, not policy)

ValueSet: DCCSPlanTypeVS
Id: dc-cs-plan-type
Title: "DC Community Support plan types"
Description: "IRP/IPC and Community Support ISSP (DC DMH MHRS Community Support Conditions of Payment, §3418.2(a), §3418.6(d))."
* insert LocalVS(dc-cs-plan-type)
* $PlanType#irp
* $PlanType#ipc
* $PlanType#issp

Profile: DCCSEncounter
Parent: BHEncounter
Id: dc-cs-encounter
Title: "DC Community Support contact"
Description: "A Community Support contact (DC DMH MHRS Community Support Conditions of Payment, §3418), with the setting it was delivered in."
* ^status = #draft
* obeys dc-cs-enc-1 and dc-cs-enc-2
* serviceType.coding[program] = $BHProgram#dc-cs
* serviceType.coding[program] ^short = "dc-cs (DC DMH MHRS Community Support Conditions of Payment, §3418.1)"
* extension ^short = "Extensions: the service setting is required (DC DMH MHRS Community Support Conditions of Payment, §3418.5)"
* extension[serviceSetting] 1..1
* extension[serviceSetting] ^short = "Provider site, natural setting (home/community) or residential facility of 16 beds or less (DC DMH MHRS Community Support Conditions of Payment, §3418.5 (a)-(c); invariants dc-cs-enc-1, dc-cs-enc-2)"

Invariant: dc-cs-enc-1
Description: "Community Support is provided at the provider site, in natural settings (home, community) or in a residential facility (DC DMH MHRS Community Support Conditions of Payment, §3418.5)."
Expression: "extension('https://fhiradapter.org/fhir/StructureDefinition/ext-service-setting').extension('setting').value.all(system = 'https://fhiradapter.org/fhir/CodeSystem/bh-service-setting' and (code = 'provider-site' or code = 'home' or code = 'community' or code = 'residential-facility'))"
Severity: #error

Invariant: dc-cs-enc-2
Description: "A residential facility has sixteen (16) beds or less, stated in bedCapacity (DC DMH MHRS Community Support Conditions of Payment, §3418.5(c))."
Expression: "extension('https://fhiradapter.org/fhir/StructureDefinition/ext-service-setting').where(extension('setting').value.code = 'residential-facility').all(extension('bedCapacity').exists() and extension('bedCapacity').value <= 16)"
Severity: #error

Profile: DCCSCarePlan
Parent: BHCarePlan
Id: dc-cs-careplan
Title: "DC Community Support plan (IRP/IPC/ISSP)"
Description: "The consumer's IRP/IPC or Community Support ISSP (DC DMH MHRS Community Support Conditions of Payment, §3418.2(a), §3418.6(d))."
* ^status = #draft
* category[program] = $BHProgram#dc-cs
* category[program] ^short = "dc-cs (DC DMH MHRS Community Support Conditions of Payment, §3418.1)"
* category ^short = "Categories: assess-plan, program, plan type IRP/IPC/ISSP (DC DMH MHRS Community Support Conditions of Payment, §3418.2(a))"
* category[planType] 1..1
* category[planType] from DCCSPlanTypeVS (required)
* category[planType] ^short = "IRP | IPC | ISSP (DC DMH MHRS Community Support Conditions of Payment, §3418.2(a), §3418.6(d))"
* activity.detail.code from DCCSServiceComponentVS (required)
* activity.detail.code ^short = "A Community Support intervention (DC DMH MHRS Community Support Conditions of Payment, §3418.2 (a)-(h))"

Profile: DCCSServiceRequest
Parent: BHServiceRequest
Id: dc-cs-servicerequest
Title: "DC Community Support referral"
Description: "A referral or order for Community Support (DC DMH MHRS Community Support Conditions of Payment, §3418)."
* ^status = #draft
* category[program] = $BHProgram#dc-cs
* category[program] ^short = "dc-cs (DC DMH MHRS Community Support Conditions of Payment, §3418.1)"
* code = $BHProgram#dc-cs
* code ^short = "The program requested: dc-cs (DC DMH MHRS Community Support Conditions of Payment, §3418.1; fhiradapter design Referral)"

Profile: DCCSConsent
Parent: BHConsent
Id: dc-cs-consent
Title: "DC Community Support consent"
Description: "A Community Support consumer's consent to disclose program data to the recipient."
* ^status = #draft
* category[program] = $BHProgram#dc-cs
* category[program] ^short = "dc-cs (DC DMH MHRS Community Support Conditions of Payment, §3418.1)"
