// The four extensions of docs/design.md "Extensions". Only where FHIR R4 has no element.

Extension: BHBilling
Id: ext-billing
Title: "Billing line"
Description: "The billing facts of one program contact (Encounter has no billing line): HCPCS code and modifiers, what a unit is, how many, whether billable and bundled. Codes are never fixed here: only DC H0036 is confirmed (fhiradapter design Billing codes)."
* ^url = "https://fhiradapter.org/fhir/StructureDefinition/ext-billing"
* ^status = #draft
* ^context[0].type = #element
* ^context[0].expression = "Encounter"
* extension contains
    code 0..1 and
    modifier 0..4 and
    unitType 1..1 and
    units 0..1 and
    billable 1..1 and
    bundled 0..1 and
    charge 0..1
* extension[code] ^short = "HCPCS code billed (Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Service Requirements (2); CCA Performance Specification #010 Community Support Program, Billing Procedures)"
* extension[code].value[x] only Coding
* extension[code].valueCoding.system = $HCPCS (exactly)
* extension[modifier] ^short = "HCPCS modifier (e.g. DC HQ, UK, AM)"
* extension[modifier].value[x] only Coding
* extension[unitType] ^short = "What one unit is: per-diem | 15-min | month | session | unit"
* extension[unitType].value[x] only code
* extension[unitType].valueCode from BHBillingUnitVS (required)
* extension[units] ^short = "Units billed"
* extension[units].value[x] only decimal
* extension[billable] ^short = "Whether this contact is billable (mt-cmp billable day: Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (5))"
* extension[billable].value[x] only boolean
* extension[bundled] ^short = "Billed as a bundled service (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (6))"
* extension[bundled].value[x] only boolean
* extension[charge] ^short = "Provider's usual charge (CCA Performance Specification #010 Community Support Program, Billing Procedures)"
* extension[charge].value[x] only Money

Extension: BHServiceSetting
Id: ext-service-setting
Title: "Service setting"
Description: "Where the service was delivered and, for a residential facility, its bed capacity (DC DMH MHRS Community Support Conditions of Payment, §3418.5)."
* ^url = "https://fhiradapter.org/fhir/StructureDefinition/ext-service-setting"
* ^status = #draft
* ^context[0].type = #element
* ^context[0].expression = "Encounter"
* extension contains
    setting 1..1 and
    bedCapacity 0..1
* extension[setting] ^short = "Setting of the service (bh-service-setting)"
* extension[setting].value[x] only Coding
* extension[setting].valueCoding from BHServiceSettingVS (required)
* extension[bedCapacity] ^short = "Licensed beds of the residential facility (DC DMH MHRS Community Support Conditions of Payment, §3418.5(c))"
* extension[bedCapacity].value[x] only integer

Extension: BHLevelOfImpairment
Id: ext-level-of-impairment
Title: "Level of impairment"
Description: "A level-of-impairment finding in one area (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Medical Necessity Criteria (3))."
* ^url = "https://fhiradapter.org/fhir/StructureDefinition/ext-level-of-impairment"
* ^status = #draft
* ^context[0].type = #element
* ^context[0].expression = "ServiceRequest"
* extension contains
    area 1..1 and
    level 1..1
* extension[area] ^short = "LOI area (mt-loi-area)"
* extension[area].value[x] only Coding
* extension[area].valueCoding from MTLOIAreaVS (required)
* extension[level] ^short = "Level of impairment (mt-loi-level)"
* extension[level].value[x] only Coding
* extension[level].valueCoding from MTLOILevelVS (required)

Extension: BHTerminationKind
Id: ext-termination-kind
Title: "Termination kind"
Description: "Whether the program's services ended as planned or not (CCA Performance Specification #010 Community Support Program, Components of Service: 30 days prior notice of planned termination; unplanned within 1 business day)."
* ^url = "https://fhiradapter.org/fhir/StructureDefinition/ext-termination-kind"
* ^status = #draft
* ^context[0].type = #element
* ^context[0].expression = "CarePlan"
* value[x] only code
* valueCode from BHTerminationKindVS (required)

Extension: BHPlaceOfService
Id: ext-place-of-service
Title: "Place of service"
Description: "The CMS place-of-service code of a program contact, as the claim line for it carries it (CMS Place of Service Code Set; CARIN Blue Button puts it on the claim item's location, US Core 8 on Location.type). A contact has no Location resource in the agency export, so the code rides on the Encounter (fhiradapter design Place of service). The code system is fixed; the codes are not enumerated here: the agency export supplies them."
* ^url = "https://fhiradapter.org/fhir/StructureDefinition/ext-place-of-service"
* ^status = #draft
* ^context[0].type = #element
* ^context[0].expression = "Encounter"
* value[x] 1..1
* value[x] only Coding
* valueCoding.system 1..1
* valueCoding.system = $POS (exactly)
* valueCoding.code 1..1
