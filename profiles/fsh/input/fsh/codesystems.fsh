// Shared local code systems (docs/design.md "Local code systems"). Each CodeSystem has a ValueSet with
// the same id holding all of it. Program-specific service components are in service-components.fsh.

RuleSet: LocalCS(id)
* ^url = "https://fhiradapter.org/fhir/CodeSystem/{id}"
* ^status = #draft
* ^experimental = false
* ^caseSensitive = true
* ^content = #complete

RuleSet: LocalVS(id)
* ^url = "https://fhiradapter.org/fhir/ValueSet/{id}"
* ^status = #draft
* ^experimental = false

CodeSystem: BHProgram
Id: bh-program
Title: "Behavioral-health program"
Description: "The programs whose policies the profiles implement (program ids from ../shared/seeds/README.md), plus dc-act so rules can recognise DC ACT contacts."
* insert LocalCS(bh-program)
* #mt-cmp "Montana Community Maintenance Program (CMP)" "Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Definition"
* #mt-imr "Montana Illness Management and Recovery (IMR), policy 410" "Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Definition"
* #dc-cs "DC Community Support (MHRS 3418)" "DC DMH MHRS Community Support Conditions of Payment, §3418.1"
* #ma-csp "Commonwealth Care Alliance Community Support Program (CSP), PS #010" "CCA Performance Specification #010 Community Support Program, Covered Services"
* #pa-tcm "PerformCare Targeted Case Management (ICM, RC, BCM), CM-040" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, Definitions"
* #dc-act "DC Assertive Community Treatment (not profiled)" "ACT contacts, needed for DC DMH MHRS Community Support Conditions of Payment, §3418.10 (Community Support shall not be billed on the same day as ACT)."

ValueSet: BHProgramVS
Id: bh-program
Title: "Behavioral-health programs"
Description: "All codes of bh-program."
* insert LocalVS(bh-program)
* include codes from system $BHProgram

CodeSystem: BHContactMode
Id: bh-contact-mode
Title: "Contact mode"
Description: "How a program contact took place (CCA Performance Specification #010 Community Support Program, Components of Service: face-to-face, phone, telehealth and collateral contacts)."
* insert LocalCS(bh-contact-mode)
* #face-to-face "Face-to-face" "In person with the member."
* #telehealth "Telehealth" "Synchronous audio-video contact with the member."
* #phone "Phone" "Telephone contact (with or without the member)."
* #collateral "Collateral" "Contact with family, friends, professionals or others involved in the member's care, with or without the member (DC DMH MHRS Community Support Conditions of Payment, draft review, Usual Activities (a))."

ValueSet: BHContactModeVS
Id: bh-contact-mode
Title: "Contact modes"
Description: "All codes of bh-contact-mode."
* insert LocalVS(bh-contact-mode)
* include codes from system $ContactMode

CodeSystem: BHContactType
Id: bh-contact-type
Title: "Contact type"
Description: "The purpose of a program contact, as the program rules need to recognise it."
* insert LocalCS(bh-contact-type)
* #quality-contact "Quality contact" "Purposeful interaction contributing to assessment and care planning (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (3))."
* #first-contact "First contact after referral" "CCA Performance Specification #010 Community Support Program, Assessment, Treatment/Recovery Planning and Documentation (contact within 24 hours of referral)."
* #needs-assessment "Needs assessment" "CCA Performance Specification #010 Community Support Program, Assessment, Treatment/Recovery Planning and Documentation (comprehensive CSP needs assessment in the first 2 weeks)."
* #service-plan-review "Service plan review" "CCA Performance Specification #010 Community Support Program, Assessment, Treatment/Recovery Planning and Documentation (plan updated at a minimum quarterly)."
* #crisis "Crisis" "Support during a behavioral health crisis (CCA Performance Specification #010 Community Support Program, Components of Service; Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (1)(c))."
* #team-meeting "Team meeting" "Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (4) (teams meet each week)."
* #ispt-meeting "ISPT meeting" "Interagency Service Planning Team meeting (PerformCare Policy CM-040 Targeted Case Management Role Expectations, 1.1.1)."
* #pre-discharge-planning "Pre-discharge planning meeting" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, 2.2 (45-day pre-discharge planning meeting)."
* #discharge-planning "Discharge planning" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, 1.2.2; CCA Performance Specification #010 Community Support Program, Discharge Planning."
* #termination-notice "Termination notice" "CCA Performance Specification #010 Community Support Program, Components of Service (30 days prior notice of planned termination)."
* #routine "Routine contact" "Any other program contact."

ValueSet: BHContactTypeVS
Id: bh-contact-type
Title: "Contact types"
Description: "All codes of bh-contact-type."
* insert LocalVS(bh-contact-type)
* include codes from system $ContactType

CodeSystem: BHPlanType
Id: bh-plan-type
Title: "Plan type"
Description: "The named plans of each program's policy."
* insert LocalCS(bh-plan-type)
* #itp "Individualized Treatment Plan (ITP)" "Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (2); Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Medical Necessity Criteria (2)."
* #irp "Individualized Recovery Plan (IRP)" "DC DMH MHRS Community Support Conditions of Payment, §3418.2(a)."
* #ipc "Individualized Plan of Care (IPC)" "DC DMH MHRS Community Support Conditions of Payment, §3418.2(a)."
* #issp "Community Support Individualized Service Plan (ISSP)" "DC DMH MHRS Community Support Conditions of Payment, §3418.2(a), §3418.6(d)."
* #csp-service-plan "CSP treatment/service plan" "CCA Performance Specification #010 Community Support Program, Assessment, Treatment/Recovery Planning and Documentation."
* #crisis-prevention-plan "Crisis prevention / risk management safety plan" "CCA Performance Specification #010 Community Support Program, Assessment, Treatment/Recovery Planning and Documentation; Components of Service (development and/or updating of crisis prevention plan)."
* #isp "TCM service plan (ISP)" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, 2.1 (routine TCM service planning), 3.1.6 (recovery plan)."
* #aftercare-plan "Aftercare plan" "CCA Performance Specification #010 Community Support Program, Discharge Planning (written aftercare plan at discharge)."

ValueSet: BHPlanTypeVS
Id: bh-plan-type
Title: "Plan types"
Description: "All codes of bh-plan-type."
* insert LocalVS(bh-plan-type)
* include codes from system $PlanType

CodeSystem: BHStayType
Id: bh-stay-type
Title: "Stay type"
Description: "Stays outside the program that rules need to see (a stay Encounter, not a program contact)."
* insert LocalCS(bh-stay-type)
* #inpatient-psychiatric "Mental health inpatient" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, 1.2.2."
* #partial-hospitalization "Partial hospitalization program" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, 1.2.2."
* #jail "Jail" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, 1.4.2.1."
* #juvenile-detention "Juvenile detention" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, 1.4.2.2."
* #residential-treatment "Residential treatment (RTF, CRR-HH)" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, 1.1, 1.2.1."
* #shelter "Shelter" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, 1.4.2.2.1."

ValueSet: BHStayTypeVS
Id: bh-stay-type
Title: "Stay types"
Description: "All codes of bh-stay-type."
* insert LocalVS(bh-stay-type)
* include codes from system $StayType

CodeSystem: BHServiceSettingCS
Id: bh-service-setting
Title: "Service setting"
Description: "Where a program service was delivered."
* insert LocalCS(bh-service-setting)
* #provider-site "Provider service site" "DC DMH MHRS Community Support Conditions of Payment, §3418.5(a)."
* #home "Member's home (natural setting)" "DC DMH MHRS Community Support Conditions of Payment, §3418.5(b)."
* #community "Other community (natural) setting" "DC DMH MHRS Community Support Conditions of Payment, §3418.5(b)."
* #residential-facility "Residential facility" "DC DMH MHRS Community Support Conditions of Payment, §3418.5(c)."
* #inpatient "Inpatient or diversionary unit" "CCA Performance Specification #010 Community Support Program, Components of Service (mobile services)."
* #jail "Jail" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, 1.4."
* #juvenile-detention "Juvenile detention" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, 1.4.2.2."
* #shelter "Shelter" "CCA Performance Specification #010 Community Support Program, Components of Service (mobile services)."

ValueSet: BHServiceSettingVS
Id: bh-service-setting
Title: "Service settings"
Description: "All codes of bh-service-setting."
* insert LocalVS(bh-service-setting)
* include codes from system $Setting

ValueSet: DCCSServiceSettingVS
Id: dc-cs-service-setting
Title: "DC Community Support settings"
Description: "Where DC Community Support may be provided: DC DMH MHRS Community Support Conditions of Payment, §3418.5 (a)-(c)."
* insert LocalVS(dc-cs-service-setting)
* $Setting#provider-site
* $Setting#home
* $Setting#community
* $Setting#residential-facility

CodeSystem: BHPractitionerQualification
Id: bh-practitioner-qualification
Title: "Practitioner qualification"
Description: "Qualifications the program policies name."
* insert LocalCS(bh-practitioner-qualification)
* #psychiatrist "Psychiatrist" "DC DMH MHRS Community Support Conditions of Payment, §3418.11(a)."
* #psychologist "Psychologist" "DC DMH MHRS Community Support Conditions of Payment, §3418.11(b)."
* #licsw "LICSW" "DC DMH MHRS Community Support Conditions of Payment, §3418.11(c)."
* #aprn "APRN" "DC DMH MHRS Community Support Conditions of Payment, §3418.11(d)."
* #rn "RN" "DC DMH MHRS Community Support Conditions of Payment, §3418.11(e)."
* #lpc "LPC" "DC DMH MHRS Community Support Conditions of Payment, §3418.11(f)."
* #lisw "LISW" "DC DMH MHRS Community Support Conditions of Payment, §3418.11(g)."
* #addiction-counselor "Addiction counselor" "DC DMH MHRS Community Support Conditions of Payment, §3418.11(h)."
* #credentialed-staff "Credentialed staff (under supervision)" "DC DMH MHRS Community Support Conditions of Payment, §3418.12."
* #lmhp "Licensed mental health professional" "Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Provider Requirements."
* #peer-specialist "Certified Behavioral Health Peer Support Specialist" "Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Provider Requirements."
* #paraprofessional "Paraprofessional" "Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Provider Requirements; CCA Performance Specification #010 Community Support Program, Staffing Requirements."
* #masters-clinician "Licensed masters level clinician (supervisor)" "CCA Performance Specification #010 Community Support Program, Staffing Requirements."
* #case-manager "Targeted case manager" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, 3.1."

ValueSet: BHPractitionerQualificationVS
Id: bh-practitioner-qualification
Title: "Practitioner qualifications"
Description: "All codes of bh-practitioner-qualification."
* insert LocalVS(bh-practitioner-qualification)
* include codes from system $Qual

CodeSystem: BHEligibilityCriterion
Id: bh-eligibility-criterion
Title: "Eligibility criterion"
Description: "Eligibility determinations a referral states as its reason."
* insert LocalCS(bh-eligibility-criterion)
* #sdmi "Severe and Disabling Mental Illness (SDMI)" "Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Medical Necessity Criteria (1); Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Medical Necessity Criteria (1)."
* #sed "Serious Emotional Disturbance (SED)" "Youth eligibility counterpart of SDMI."
* #medical-necessity-documented "Medical necessity documented" "Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Utilization Management (3)."

ValueSet: BHEligibilityCriterionVS
Id: bh-eligibility-criterion
Title: "Eligibility criteria"
Description: "All codes of bh-eligibility-criterion."
* insert LocalVS(bh-eligibility-criterion)
* include codes from system $Elig

CodeSystem: PATCMType
Id: pa-tcm-type
Title: "PA targeted case management type"
Description: "PerformCare Policy CM-040 Targeted Case Management Role Expectations, Definitions: Targeted Case Management includes Intensive Case Management, Resource Coordination and Blended Case Management."
* insert LocalCS(pa-tcm-type)
* #icm "Intensive Case Management (ICM)" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, Definitions; Policy (55 Pa. Code Chapter 5221)."
* #rc "Resource Coordination (RC)" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, Definitions; Policy (OMH-93-09)."
* #bcm "Blended Case Management (BCM)" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, Definitions; Policy (OMHSAS-10-03)."

ValueSet: PATCMTypeVS
Id: pa-tcm-type
Title: "PA TCM types"
Description: "All codes of pa-tcm-type."
* insert LocalVS(pa-tcm-type)
* include codes from system $TCMType

CodeSystem: MTLOIArea
Id: mt-loi-area
Title: "Montana level-of-impairment area"
Description: "LOI areas named in Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Medical Necessity Criteria (3); the full LOI instrument is not in the seed, so this is a fragment."
* insert LocalCS(mt-loi-area)
* ^content = #fragment
* #3 "Area 3 - Family/Interpersonal Relationships" "Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Medical Necessity Criteria (3)(a)."
* #4 "Area 4 - Mood/Thought Functioning" "Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Medical Necessity Criteria (3)(b)."

ValueSet: MTLOIAreaVS
Id: mt-loi-area
Title: "Montana LOI areas"
Description: "All codes of mt-loi-area."
* insert LocalVS(mt-loi-area)
* include codes from system $LOIArea

CodeSystem: MTLOILevel
Id: mt-loi-level
Title: "Montana level of impairment"
Description: "Impairment levels; Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Medical Necessity Criteria (3) requires 'moderate'."
* insert LocalCS(mt-loi-level)
* #none "None" "No impairment."
* #mild "Mild" "Mild impairment."
* #moderate "Moderate" "Moderate impairment (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Medical Necessity Criteria (3))."
* #severe "Severe" "Severe impairment."
* #extreme "Extreme" "Extreme impairment."

ValueSet: MTLOILevelVS
Id: mt-loi-level
Title: "Montana LOI levels"
Description: "All codes of mt-loi-level."
* insert LocalVS(mt-loi-level)
* include codes from system $LOILevel

CodeSystem: BHRoster
Id: bh-roster
Title: "Team roster"
Description: "Team rosters for the mt-cmp 20% rule (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Provider Requirements (4))."
* insert LocalCS(bh-roster)
* #pact-mct "Members receiving PACT/MCT services" "Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Provider Requirements (1), (4)."
* #cmp "Members receiving CMP services" "Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Provider Requirements (4)."

ValueSet: BHRosterVS
Id: bh-roster
Title: "Team rosters"
Description: "All codes of bh-roster."
* insert LocalVS(bh-roster)
* include codes from system $Roster

CodeSystem: BHBillingUnit
Id: bh-billing-unit
Title: "Billing unit"
Description: "What one billed unit of a program service is (ext-billing.unitType)."
* insert LocalCS(bh-billing-unit)
* #per-diem "Per diem (one billable day)" "Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (5)."
* #15-min "15 minutes" "DC Community Support H0036 per 15 minutes (../shared/fhiradapter billing notes TL;DR 4); PA ICM quarter hour."
* #month "Month" "Monthly unit."
* #session "Session" "One session."
* #unit "HCPCS unit" "One unit of the HCPCS code billed (Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Service Requirements (2))."

ValueSet: BHBillingUnitVS
Id: bh-billing-unit
Title: "Billing units"
Description: "All codes of bh-billing-unit."
* insert LocalVS(bh-billing-unit)
* include codes from system $BillingUnit

CodeSystem: BHTerminationKindCS
Id: bh-termination-kind
Title: "Termination kind"
Description: "Whether a program's services ended as planned (CCA Performance Specification #010 Community Support Program, Components of Service: 30 days prior notice of planned termination; unplanned termination notified within 1 business day)."
* insert LocalCS(bh-termination-kind)
* #planned "Planned termination" "CCA Performance Specification #010 Community Support Program, Components of Service (30 days prior notice)."
* #unplanned "Unplanned termination" "CCA Performance Specification #010 Community Support Program, Components of Service (notify within 1 business day)."

ValueSet: BHTerminationKindVS
Id: bh-termination-kind
Title: "Termination kinds"
Description: "All codes of bh-termination-kind."
* insert LocalVS(bh-termination-kind)
* include codes from system $TerminationKind

ValueSet: BHEncounterClassVS
Id: bh-encounter-class
Title: "Program contact encounter classes"
Description: "The v3-ActCode classes a community program contact may have: ambulatory, home health, field, virtual."
* insert LocalVS(bh-encounter-class)
* $ActCode#AMB "ambulatory"
* $ActCode#HH "home health"
* $ActCode#FLD "field"
* $ActCode#VR "virtual"

ValueSet: BHEncounterParticipantTypeVS
Id: bh-encounter-participant-type
Title: "Program contact participant types"
Description: "The R4 encounter participant types plus v3-ParticipationType RESP, which marks the supervising qualified practitioner of credentialed staff (DC DMH MHRS Community Support Conditions of Payment, §3418.12; fhiradapter design)."
* insert LocalVS(bh-encounter-participant-type)
* include codes from valueset http://hl7.org/fhir/ValueSet/encounter-participant-type
* $ParticipationType#RESP "responsible party"
