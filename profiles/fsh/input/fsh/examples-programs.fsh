// One valid example per program profile (20). Synthetic data.

// ---- mt-cmp ----
Instance: mt-cmp-encounter-example
InstanceOf: MTCMPEncounter
Usage: #example
Title: "MT CMP weekly quality contact, billable day"
* insert ExampleEncounterCore(mt-cmp)
* class = $ActCode#HH "home health"
* type[contactMode] = $ContactMode#face-to-face "Face-to-face"
* type[contactType] = $ContactType#quality-contact "Quality contact"
* period.start = "2026-02-03T10:00:00-07:00"
* period.end = "2026-02-03T11:00:00-07:00"
* extension[billing].extension[unitType].valueCode = #per-diem
* extension[billing].extension[units].valueDecimal = 1
* extension[billing].extension[billable].valueBoolean = true
* extension[billing].extension[bundled].valueBoolean = true

Instance: mt-cmp-careplan-example
InstanceOf: MTCMPCarePlan
Usage: #example
Title: "MT CMP Individualized Treatment Plan"
* insert ExampleCarePlanCore(mt-cmp)
* category[planType] = $PlanType#itp "Individualized Treatment Plan (ITP)"
* period.start = "2026-01-12"
* created = "2026-01-12"
* activity[0].detail.code = $MtCmpSC#medication-management "Medication management, administration, delivery, and monitoring"
* activity[0].detail.status = #in-progress
* activity[1].detail.code = $MtCmpSC#peer-support "Peer support"
* activity[1].detail.status = #scheduled

Instance: mt-cmp-servicerequest-example
InstanceOf: MTCMPServiceRequest
Usage: #example
Title: "MT CMP referral: SDMI, moderate impairment in Area 4"
* insert ExampleServiceRequestCore(mt-cmp)
* code = $BHProgram#mt-cmp
* authoredOn = "2026-01-05T09:00:00-07:00"
* reasonCode[sdmi] = $Elig#sdmi "Severe and Disabling Mental Illness (SDMI)"
* extension[levelOfImpairment][0].extension[area].valueCoding = $LOIArea#4 "Area 4 - Mood/Thought Functioning"
* extension[levelOfImpairment][0].extension[level].valueCoding = $LOILevel#moderate "Moderate"
* extension[levelOfImpairment][1].extension[area].valueCoding = $LOIArea#3 "Area 3 - Family/Interpersonal Relationships"
* extension[levelOfImpairment][1].extension[level].valueCoding = $LOILevel#mild "Mild"

Instance: mt-cmp-consent-example
InstanceOf: MTCMPConsent
Usage: #example
Title: "MT CMP consent to disclose to the payer"
* insert ExampleConsentCore(mt-cmp)

// ---- mt-imr ----
Instance: mt-imr-encounter-example
InstanceOf: MTIMREncounter
Usage: #example
Title: "MT IMR session"
* insert ExampleEncounterCore(mt-imr)
* class = $ActCode#AMB "ambulatory"
* type[contactMode] = $ContactMode#face-to-face "Face-to-face"
* period.start = "2026-02-04T14:00:00-07:00"
* period.end = "2026-02-04T15:00:00-07:00"

Instance: mt-imr-careplan-example
InstanceOf: MTIMRCarePlan
Usage: #example
Title: "MT IMR: ITP in which the member chose IMR"
* insert ExampleCarePlanCore(mt-imr)
* category[planType] = $PlanType#itp "Individualized Treatment Plan (ITP)"
* period.start = "2026-01-20"
* created = "2026-01-20"
* activity[0].detail.code = $MtImrSC#goal-setting "Setting and pursuing personal goals"
* activity[0].detail.status = #in-progress

Instance: mt-imr-servicerequest-example
InstanceOf: MTIMRServiceRequest
Usage: #example
Title: "MT IMR referral: SDMI"
* insert ExampleServiceRequestCore(mt-imr)
* code = $BHProgram#mt-imr
* authoredOn = "2026-01-15T09:00:00-07:00"
* reasonCode[sdmi] = $Elig#sdmi "Severe and Disabling Mental Illness (SDMI)"

Instance: mt-imr-consent-example
InstanceOf: MTIMRConsent
Usage: #example
Title: "MT IMR consent"
* insert ExampleConsentCore(mt-imr)

// ---- dc-cs ----
Instance: dc-cs-encounter-example
InstanceOf: DCCSEncounter
Usage: #example
Title: "DC Community Support contact in a 12-bed residential facility"
* insert ExampleEncounterCore(dc-cs)
* class = $ActCode#FLD "field"
* type[contactMode] = $ContactMode#face-to-face "Face-to-face"
* period.start = "2026-02-05T09:00:00-05:00"
* period.end = "2026-02-05T09:45:00-05:00"
* extension[serviceSetting].extension[setting].valueCoding = $Setting#residential-facility "Residential facility"
* extension[serviceSetting].extension[bedCapacity].valueInteger = 12
* extension[billing].extension[code].valueCoding = $HCPCS#H0036 "Community psychiatric supportive treatment, face-to-face, per 15 minutes"
* extension[billing].extension[unitType].valueCode = #15-min
* extension[billing].extension[units].valueDecimal = 3
* extension[billing].extension[billable].valueBoolean = true

Instance: dc-cs-careplan-example
InstanceOf: DCCSCarePlan
Usage: #example
Title: "DC Community Support ISSP"
* insert ExampleCarePlanCore(dc-cs)
* category[planType] = $PlanType#issp "Community Support Individualized Service Plan (ISSP)"
* period.start = "2026-01-10"
* created = "2026-01-10"
* activity[0].detail.code = $DcCsSC#symptom-self-management "Assisting in symptom self-monitoring and self-management"
* activity[0].detail.status = #in-progress
* activity[1].detail.code = $DcCsSC#relapse-prevention "Developing mental health relapse prevention strategies and plans"
* activity[1].detail.status = #not-started

Instance: dc-cs-servicerequest-example
InstanceOf: DCCSServiceRequest
Usage: #example
Title: "DC Community Support referral"
* insert ExampleServiceRequestCore(dc-cs)
* code = $BHProgram#dc-cs
* authoredOn = "2026-01-08T11:00:00-05:00"
* reasonCode[0] = $ICD10CM#F20.9 "Schizophrenia, unspecified"

Instance: dc-cs-consent-example
InstanceOf: DCCSConsent
Usage: #example
Title: "DC Community Support consent"
* insert ExampleConsentCore(dc-cs)

// ---- ma-csp ----
Instance: ma-csp-encounter-example
InstanceOf: MACSPEncounter
Usage: #example
Title: "CCA CSP first contact by phone after referral"
* insert ExampleEncounterCore(ma-csp)
* class = $ActCode#VR "virtual"
* type[contactMode] = $ContactMode#phone "Phone"
* type[contactType] = $ContactType#first-contact "First contact after referral"
* period.start = "2026-02-02T16:00:00-05:00"

Instance: ma-csp-careplan-example
InstanceOf: MACSPCarePlan
Usage: #example
Title: "CCA CSP treatment/service plan"
* insert ExampleCarePlanCore(ma-csp)
* category[planType] = $PlanType#csp-service-plan "CSP treatment/service plan"
* period.start = "2026-02-10"
* created = "2026-02-10"
* activity[0].detail.code = $MaCspSC#service-coordination "Service coordination and linkage"
* activity[0].detail.status = #in-progress

Instance: ma-csp-crisis-plan-example
InstanceOf: MACSPCarePlan
Usage: #example
Title: "CCA CSP crisis prevention plan, part of the service plan"
* insert ExampleCarePlanCore(ma-csp)
* category[planType] = $PlanType#crisis-prevention-plan "Crisis prevention / risk management safety plan"
* partOf = Reference(CarePlan/ma-csp-careplan-example)
* period.start = "2026-02-10"
* created = "2026-02-10"
* activity[0].detail.code = $MaCspSC#crisis-prevention-plan "Development and/or updating of crisis prevention plan"
* activity[0].detail.status = #completed

Instance: ma-csp-servicerequest-example
InstanceOf: MACSPServiceRequest
Usage: #example
Title: "CCA CSP referral from the CCA Care Team"
* insert ExampleServiceRequestCore(ma-csp)
* code = $BHProgram#ma-csp
* authoredOn = "2026-02-02T10:30:00-05:00"
* reasonCode[0].text = "High risk of admission to a 24-hour psychiatric setting"

Instance: ma-csp-consent-example
InstanceOf: MACSPConsent
Usage: #example
Title: "CCA CSP consent to share with the CCA Care Team"
* insert ExampleConsentCore(ma-csp)
* provision.purpose[1] = $ActReason#COC "coordination of care"

// ---- pa-tcm ----
Instance: pa-tcm-encounter-example
InstanceOf: PATCMEncounter
Usage: #example
Title: "PA TCM (ICM) contact after a hospital discharge"
* insert ExampleEncounterCore(pa-tcm)
* serviceType.coding[tcmType] = $TCMType#icm "Intensive Case Management (ICM)"
* class = $ActCode#HH "home health"
* type[contactMode] = $ContactMode#face-to-face "Face-to-face"
* type[contactType] = $ContactType#routine "Routine contact"
* period.start = "2026-02-06T13:00:00-05:00"
* extension[placeOfService].valueCoding = $POS#12 "Home"

Instance: pa-tcm-careplan-example
InstanceOf: PATCMCarePlan
Usage: #example
Title: "PA TCM service plan (ICM)"
* insert ExampleCarePlanCore(pa-tcm)
* category[planType] = $PlanType#isp "TCM service plan (ISP)"
* category[tcmType] = $TCMType#icm "Intensive Case Management (ICM)"
* period.start = "2026-01-15"
* created = "2026-01-15"
* activity[0].detail.code = $PaTcmSC#post-hospital-follow-up "Follow up after hospitalization to assure after care"
* activity[0].detail.status = #scheduled

Instance: pa-tcm-servicerequest-example
InstanceOf: PATCMServiceRequest
Usage: #example
Title: "PA TCM request for Blended Case Management"
* insert ExampleServiceRequestCore(pa-tcm)
* code.coding[tcmType] = $TCMType#bcm "Blended Case Management (BCM)"
* authoredOn = "2026-01-09T08:30:00-05:00"
* reasonCode[0] = $ICD10CM#F33.1 "Major depressive disorder, recurrent, moderate"

Instance: pa-tcm-consent-example
InstanceOf: PATCMConsent
Usage: #example
Title: "PA TCM consent"
* insert ExampleConsentCore(pa-tcm)
