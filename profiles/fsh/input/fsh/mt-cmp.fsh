// Montana Community Maintenance Program (CMP): 000_90208eba930f2875.txt

ValueSet: MTCMPContactModeVS
Id: mt-cmp-contact-mode
Title: "MT CMP contact modes"
Description: "CMP contact modes: CMP teams also phone members and collaterals; only face-to-face and telehealth contacts count as the weekly quality contacts and billable days (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (3), (5))."
* insert LocalVS(mt-cmp-contact-mode)
* $ContactMode#face-to-face
* $ContactMode#telehealth
* $ContactMode#phone
* $ContactMode#collateral

Profile: MTCMPEncounter
Parent: BHEncounter
Id: mt-cmp-encounter
Title: "MT CMP contact"
Description: "A Community Maintenance Program contact (Montana DPHHS BHDD Provider Manual, Community Maintenance Program). CMP contacts are the weekly quality contacts, face-to-face or telehealth, billed per diem as a bundled service."
* ^status = #draft
* obeys mt-cmp-enc-1 and mt-cmp-enc-2
* serviceType.coding[program] = $BHProgram#mt-cmp
* serviceType.coding[program] ^short = "mt-cmp (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Definition)"
* type[contactMode] from MTCMPContactModeVS (required)
* type[contactMode] ^short = "face-to-face | telehealth | phone | collateral; a quality contact or billable contact is face-to-face or telehealth (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (3), (5); invariant mt-cmp-enc-1)"
* extension[billing] ^short = "Per-diem bundled billing line (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (5), (6); invariant mt-cmp-enc-2)"

Invariant: mt-cmp-enc-1
Description: "A CMP quality contact or billable contact is face-to-face or telehealth; phone and collateral contacts are recorded but count for neither (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (3), (5))."
Expression: "(type.coding.where(system = 'https://fhiradapter.org/fhir/CodeSystem/bh-contact-type' and code = 'quality-contact').exists() or extension.where(url = 'https://fhiradapter.org/fhir/StructureDefinition/ext-billing').extension.where(url = 'billable' and value = true).exists()) implies type.coding.where(system = 'https://fhiradapter.org/fhir/CodeSystem/bh-contact-mode').all(code = 'face-to-face' or code = 'telehealth')"
Severity: #error

Invariant: mt-cmp-enc-2
Description: "A CMP billing line is per diem and bundled (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (5), (6))."
Expression: "extension('https://fhiradapter.org/fhir/StructureDefinition/ext-billing').all(extension('unitType').value = 'per-diem' and extension('bundled').value = true)"
Severity: #error

Profile: MTCMPCarePlan
Parent: BHCarePlan
Id: mt-cmp-careplan
Title: "MT CMP Individualized Treatment Plan"
Description: "The CMP member's Individualized Treatment Plan (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (2))."
* ^status = #draft
* category[program] = $BHProgram#mt-cmp
* category[program] ^short = "mt-cmp (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Definition)"
* category ^short = "Categories: assess-plan, program, plan type ITP (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (2))"
* category[planType] 1..1
* category[planType] = $PlanType#itp
* category[planType] ^short = "ITP: billed services are documented in the Individualized Treatment Plan (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (2))"
* activity.detail.code from MTCMPServiceComponentVS (required)
* activity.detail.code ^short = "A core CMP service component (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (1)(a)-(j))"

Profile: MTCMPServiceRequest
Parent: BHServiceRequest
Id: mt-cmp-servicerequest
Title: "MT CMP referral"
Description: "A referral to the Community Maintenance Program with its medical-necessity facts (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Medical Necessity Criteria)."
* ^status = #draft
* obeys mt-cmp-sr-1
* category[program] = $BHProgram#mt-cmp
* category[program] ^short = "mt-cmp (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Definition)"
* code = $BHProgram#mt-cmp
* code ^short = "The program requested: mt-cmp (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Definition; fhiradapter design Referral)"
* extension ^short = "Extensions: level-of-impairment findings (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Medical Necessity Criteria (3))"
* extension[levelOfImpairment] 1..* MS
* extension[levelOfImpairment] ^short = "LOI findings; one must be moderate in Area 3 or 4 (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Medical Necessity Criteria (3); invariant mt-cmp-sr-1)"
* reasonCode 1..*
* reasonCode ^slicing.discriminator.type = #pattern
* reasonCode ^slicing.discriminator.path = "$this"
* reasonCode ^slicing.rules = #open
* reasonCode ^short = "Eligibility: SDMI (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Medical Necessity Criteria (1))"
* reasonCode contains sdmi 1..1 MS
* reasonCode[sdmi] = $Elig#sdmi
* reasonCode[sdmi] ^short = "The member meets the SDMI criteria (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Medical Necessity Criteria (1))"

Invariant: mt-cmp-sr-1
Description: "Moderate level of impairment in Area 3 (Family/Interpersonal Relationships) or Area 4 (Mood/Thought Functioning) (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Medical Necessity Criteria (3))."
Expression: "extension('https://fhiradapter.org/fhir/StructureDefinition/ext-level-of-impairment').where((extension('area').value.code = '3' or extension('area').value.code = '4') and extension('level').value.code = 'moderate').exists()"
Severity: #error

Profile: MTCMPConsent
Parent: BHConsent
Id: mt-cmp-consent
Title: "MT CMP consent"
Description: "A CMP member's consent to disclose program data to the recipient (payer / team)."
* ^status = #draft
* category[program] = $BHProgram#mt-cmp
* category[program] ^short = "mt-cmp (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Definition)"
