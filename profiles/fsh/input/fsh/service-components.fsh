// One service-component CodeSystem + ValueSet per program, from each policy's own list; each concept's
// definition cites the seed file and section it comes from.

CodeSystem: MTCMPServiceComponent
Id: mt-cmp-service-component
Title: "MT CMP service components"
Description: "Core CMP service components each team must make available (Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (1))."
* insert LocalCS(mt-cmp-service-component)
* #medication-management "Medication management, administration, delivery, and monitoring" "Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (1)(a)."
* #case-management "Case/care management" "Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (1)(b)."
* #crisis-services "24-hour crisis services" "Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (1)(c)."
* #illness-management-recovery "Illness management and recovery skills" "Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (1)(d)."
* #community-living-skills "Community living skills, including side-by-side assistance with activities of daily living" "Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (1)(e)."
* #support-network-intervention "Intervention with support networks" "Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (1)(f)."
* #employment-support "Employment-support services" "Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (1)(g)."
* #co-occurring-treatment "Integrated treatment for co-occurring disorders, including substance use disorder treatment" "Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (1)(h)."
* #therapy "Individual, family, and group therapy" "Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (1)(i)."
* #peer-support "Peer support" "Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (1)(j)."

ValueSet: MTCMPServiceComponentVS
Id: mt-cmp-service-component
Title: "MT CMP service components"
Description: "All codes of mt-cmp-service-component."
* insert LocalVS(mt-cmp-service-component)
* include codes from system $MtCmpSC

CodeSystem: MTIMRServiceComponent
Id: mt-imr-service-component
Title: "MT IMR service components"
Description: "What IMR delivers (Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Definition; materials per Service Requirements (1))."
* insert LocalCS(mt-imr-service-component)
* #illness-education "Information about mental illness" "Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Definition (providing information about mental illness), using the SAMHSA IMR Educational Handouts (Service Requirements (1)(b))."
* #coping-skills "Coping skills to manage the illness" "Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Definition (coping skills to help them manage their illness)."
* #goal-setting "Setting and pursuing personal goals" "Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Definition (assisting members to set and pursue personal goals)."
* #treatment-decision-support "Support for informed treatment decisions" "Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Definition (make informed decisions about their treatment)."
* #strategy-into-action "Converting strategy into action in daily life" "Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Definition (converting strategy into action in their daily lives)."
* #goal-review "Ongoing goal review with provider, behavioral aide and member" "Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery, Definition (goals are reviewed on an ongoing basis)."

ValueSet: MTIMRServiceComponentVS
Id: mt-imr-service-component
Title: "MT IMR service components"
Description: "All codes of mt-imr-service-component."
* insert LocalVS(mt-imr-service-component)
* include codes from system $MtImrSC

CodeSystem: DCCSServiceComponent
Id: dc-cs-service-component
Title: "DC Community Support interventions"
Description: "Community Support interventions (DC DMH MHRS Community Support Conditions of Payment, §3418.2 (a)-(h))."
* insert LocalCS(dc-cs-service-component)
* #plan-development "Participation in the development and implementation of the IRP/IPC and Community Support ISSP" "DC DMH MHRS Community Support Conditions of Payment, §3418.2(a)."
* #stressor-support "Assistance and support in stressor situations" "DC DMH MHRS Community Support Conditions of Payment, §3418.2(b)."
* #family-education "Mental health education, support and consultation to families and support system" "DC DMH MHRS Community Support Conditions of Payment, §3418.2(c)."
* #coping-skills-intervention "Individual mental health intervention for interpersonal and community coping skills" "DC DMH MHRS Community Support Conditions of Payment, §3418.2(d)."
* #symptom-self-management "Assisting in symptom self-monitoring and self-management" "DC DMH MHRS Community Support Conditions of Payment, §3418.2(e)."
* #social-support-skills "Increasing social support skills and networks" "DC DMH MHRS Community Support Conditions of Payment, §3418.2(f)."
* #out-of-home-placement-avoidance "Strategies for avoiding out-of-home placement and building family support skills" "DC DMH MHRS Community Support Conditions of Payment, §3418.2(g)."
* #relapse-prevention "Developing mental health relapse prevention strategies and plans" "DC DMH MHRS Community Support Conditions of Payment, §3418.2(h)."

ValueSet: DCCSServiceComponentVS
Id: dc-cs-service-component
Title: "DC Community Support interventions"
Description: "All codes of dc-cs-service-component."
* insert LocalVS(dc-cs-service-component)
* include codes from system $DcCsSC

CodeSystem: MACSPServiceComponent
Id: ma-csp-service-component
Title: "CCA CSP service components"
Description: "Required CSP service components (CCA Performance Specification #010 Community Support Program, Components of Service/Provider Responsibilities: 'The scope of required service components')."
* insert LocalCS(ma-csp-service-component)
* #case-management "Case management" "CCA Performance Specification #010 Community Support Program, Components of Service (required service components: case management)."
* #crisis-prevention-plan "Development and/or updating of crisis prevention plan" "CCA Performance Specification #010 Community Support Program, Components of Service (required service components)."
* #needs-assessment "Needs assessment" "CCA Performance Specification #010 Community Support Program, Components of Service (required service components); Assessment, Treatment/Recovery Planning and Documentation."
* #service-plan "CSP treatment/service plan" "CCA Performance Specification #010 Community Support Program, Components of Service (required service components)."
* #service-coordination "Service coordination and linkage" "CCA Performance Specification #010 Community Support Program, Components of Service (service coordination and linkage, relative to services in the CSP treatment/service plan)."
* #engagement-travel "Travel time for initial and on-going engagement" "CCA Performance Specification #010 Community Support Program, Components of Service (travel time as part of the engagement process)."
* #transportation-assistance "Temporary assistance with transportation to essential appointments" "CCA Performance Specification #010 Community Support Program, Components of Service (temporary assistance with transportation)."
* #benefits-housing-assistance "Research/telephone time obtaining benefits, housing and health care" "CCA Performance Specification #010 Community Support Program, Components of Service (research time/telephone time)."
* #natural-supports "Facilitating natural, peer and self-help supports and educational materials" "CCA Performance Specification #010 Community Support Program, Components of Service (natural support systems)."
* #crisis-support "Support during a behavioral health crisis" "CCA Performance Specification #010 Community Support Program, Components of Service (support for members experiencing a behavioral health crisis)."
* #telehealth-assistance "On-site assistance with telehealth technology" "CCA Performance Specification #010 Community Support Program, Components of Service (on-site assistance to secure and use telehealth technology)."

ValueSet: MACSPServiceComponentVS
Id: ma-csp-service-component
Title: "CCA CSP service components"
Description: "All codes of ma-csp-service-component."
* insert LocalVS(ma-csp-service-component)
* include codes from system $MaCspSC

CodeSystem: PATCMServiceComponent
Id: pa-tcm-service-component
Title: "PA TCM roles"
Description: "TCM roles (PerformCare Policy CM-040 Targeted Case Management Role Expectations, 3.1.1-3.1.12)."
* insert LocalCS(pa-tcm-service-component)
* #recovery-support "Providing support to members in their recovery" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, 3.1.1."
* #access-assistance "Assisting in accessing behavioral/physical health services, benefits, justice system, vocational and educational needs" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, 3.1.2."
* #face-to-face-assessment "Face-to-face assessments and identifying treatment needs" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, 3.1.3."
* #appointment-advocacy "Assisting with appointments and advocating for needed services" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, 3.1.4."
* #ispt-facilitation "Facilitating ISPT/team meetings, treatment, discharge planning and after care" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, 3.1.5."
* #service-coordination "Coordinating all services supporting the recovery plan" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, 3.1.6."
* #independence-promotion "Promoting member independence in the community" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, 3.1.7."
* #natural-supports "Identifying natural and community supports" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, 3.1.8."
* #sdoh-assistance "Assisting with social determinants of health" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, 3.1.9."
* #physical-health-coordination "Coordinating physical health needs, appointments and follow up" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, 3.1.10."
* #post-hospital-follow-up "Follow up after hospitalization to assure after care" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, 3.1.11; 1.2.2.1."
* #crisis-plan "Developing and coordinating a crisis plan between systems" "PerformCare Policy CM-040 Targeted Case Management Role Expectations, 3.1.12."

ValueSet: PATCMServiceComponentVS
Id: pa-tcm-service-component
Title: "PA TCM roles"
Description: "All codes of pa-tcm-service-component."
* insert LocalVS(pa-tcm-service-component)
* include codes from system $PaTcmSC
