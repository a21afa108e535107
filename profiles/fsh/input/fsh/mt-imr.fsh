// Montana Illness Management and Recovery (IMR), policy 410: 003_b1943e64eef8a2d8.txt

Profile: MTIMREncounter
Parent: BHEncounter
Id: mt-imr-encounter
Title: "MT IMR session"
Description: "An IMR session (Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery). IMR is not bundled and is billed with a HCPCS code."
* ^status = #draft
* obeys mt-imr-enc-1 and mt-imr-enc-2
* serviceType.coding[program] = $BHProgram#mt-imr
* serviceType.coding[program] ^short = "mt-imr (Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Definition)"
* extension[billing] ^short = "Not bundled; a billable line carries a HCPCS code (Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Service Requirements (2); invariants mt-imr-enc-1, mt-imr-enc-2)"

Invariant: mt-imr-enc-1
Description: "IMR is not a bundled service (Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Service Requirements (2))."
Expression: "extension('https://fhiradapter.org/fhir/StructureDefinition/ext-billing').all(extension('bundled').where(value = true).empty())"
Severity: #error

Invariant: mt-imr-enc-2
Description: "A billable IMR line is billed using a HCPCS code (Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Service Requirements (2))."
Expression: "extension('https://fhiradapter.org/fhir/StructureDefinition/ext-billing').where(extension('billable').value = true).all(extension('code').exists())"
Severity: #error

Profile: MTIMRCarePlan
Parent: BHCarePlan
Id: mt-imr-careplan
Title: "MT IMR Individualized Treatment Plan"
Description: "The ITP in which the member chose IMR (Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Medical Necessity Criteria (2), Service Requirements (3))."
* ^status = #draft
* category[program] = $BHProgram#mt-imr
* category[program] ^short = "mt-imr (Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Definition)"
* category ^short = "Categories: assess-plan, program, plan type ITP (Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Medical Necessity Criteria (2))"
* category[planType] 1..1
* category[planType] = $PlanType#itp
* category[planType] ^short = "ITP: IMR is the member's choice as indicated in the most current ITP (Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Medical Necessity Criteria (2); Service Requirements (3))"
* activity.detail.code from MTIMRServiceComponentVS (required)
* activity.detail.code ^short = "An IMR service component (Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Definition)"

Profile: MTIMRServiceRequest
Parent: BHServiceRequest
Id: mt-imr-servicerequest
Title: "MT IMR referral"
Description: "A referral to IMR (Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Medical Necessity Criteria)."
* ^status = #draft
* category[program] = $BHProgram#mt-imr
* category[program] ^short = "mt-imr (Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Definition)"
* code = $BHProgram#mt-imr
* code ^short = "The program requested: mt-imr (Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Definition; fhiradapter design Referral)"
* reasonCode 1..*
* reasonCode ^slicing.discriminator.type = #pattern
* reasonCode ^slicing.discriminator.path = "$this"
* reasonCode ^slicing.rules = #open
* reasonCode ^short = "Eligibility: SDMI (Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Medical Necessity Criteria (1))"
* reasonCode contains sdmi 1..1 MS
* reasonCode[sdmi] = $Elig#sdmi
* reasonCode[sdmi] ^short = "The member meets the SDMI criteria (Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Medical Necessity Criteria (1))"

Profile: MTIMRConsent
Parent: BHConsent
Id: mt-imr-consent
Title: "MT IMR consent"
Description: "An IMR member's consent to disclose program data to the recipient."
* ^status = #draft
* category[program] = $BHProgram#mt-imr
* category[program] ^short = "mt-imr (Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Definition)"
