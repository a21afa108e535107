// One service-component CodeSystem + ValueSet per program, from each policy's own list; each concept's
// definition cites the seed file and section it comes from.

CodeSystem: MTCMPServiceComponent
Id: mt-cmp-service-component
Title: "MT CMP service components"
Description: "Core CMP service components each team must make available (000_90208eba930f2875.txt Service Requirements (1))."
* insert LocalCS(mt-cmp-service-component)
* #medication-management "Medication management, administration, delivery, and monitoring" "000_90208eba930f2875.txt Service Requirements (1)(a)."
* #case-management "Case/care management" "000_90208eba930f2875.txt Service Requirements (1)(b)."
* #crisis-services "24-hour crisis services" "000_90208eba930f2875.txt Service Requirements (1)(c)."
* #illness-management-recovery "Illness management and recovery skills" "000_90208eba930f2875.txt Service Requirements (1)(d)."
* #community-living-skills "Community living skills, including side-by-side assistance with activities of daily living" "000_90208eba930f2875.txt Service Requirements (1)(e)."
* #support-network-intervention "Intervention with support networks" "000_90208eba930f2875.txt Service Requirements (1)(f)."
* #employment-support "Employment-support services" "000_90208eba930f2875.txt Service Requirements (1)(g)."
* #co-occurring-treatment "Integrated treatment for co-occurring disorders, including substance use disorder treatment" "000_90208eba930f2875.txt Service Requirements (1)(h)."
* #therapy "Individual, family, and group therapy" "000_90208eba930f2875.txt Service Requirements (1)(i)."
* #peer-support "Peer support" "000_90208eba930f2875.txt Service Requirements (1)(j)."

ValueSet: MTCMPServiceComponentVS
Id: mt-cmp-service-component
Title: "MT CMP service components"
Description: "All codes of mt-cmp-service-component."
* insert LocalVS(mt-cmp-service-component)
* include codes from system $MtCmpSC

CodeSystem: MTIMRServiceComponent
Id: mt-imr-service-component
Title: "MT IMR service components"
Description: "What IMR delivers (003_b1943e64eef8a2d8.txt Definition; materials per Service Requirements (1))."
* insert LocalCS(mt-imr-service-component)
* #illness-education "Information about mental illness" "003_b1943e64eef8a2d8.txt Definition (providing information about mental illness), using the SAMHSA IMR Educational Handouts (Service Requirements (1)(b))."
* #coping-skills "Coping skills to manage the illness" "003_b1943e64eef8a2d8.txt Definition (coping skills to help them manage their illness)."
* #goal-setting "Setting and pursuing personal goals" "003_b1943e64eef8a2d8.txt Definition (assisting members to set and pursue personal goals)."
* #treatment-decision-support "Support for informed treatment decisions" "003_b1943e64eef8a2d8.txt Definition (make informed decisions about their treatment)."
* #strategy-into-action "Converting strategy into action in daily life" "003_b1943e64eef8a2d8.txt Definition (converting strategy into action in their daily lives)."
* #goal-review "Ongoing goal review with provider, behavioral aide and member" "003_b1943e64eef8a2d8.txt Definition (goals are reviewed on an ongoing basis)."

ValueSet: MTIMRServiceComponentVS
Id: mt-imr-service-component
Title: "MT IMR service components"
Description: "All codes of mt-imr-service-component."
* insert LocalVS(mt-imr-service-component)
* include codes from system $MtImrSC

CodeSystem: DCCSServiceComponent
Id: dc-cs-service-component
Title: "DC Community Support interventions"
Description: "Community Support interventions (001_531c4a09cf20a817.txt §3418.2 (a)-(h))."
* insert LocalCS(dc-cs-service-component)
* #plan-development "Participation in the development and implementation of the IRP/IPC and Community Support ISSP" "001_531c4a09cf20a817.txt §3418.2(a)."
* #stressor-support "Assistance and support in stressor situations" "001_531c4a09cf20a817.txt §3418.2(b)."
* #family-education "Mental health education, support and consultation to families and support system" "001_531c4a09cf20a817.txt §3418.2(c)."
* #coping-skills-intervention "Individual mental health intervention for interpersonal and community coping skills" "001_531c4a09cf20a817.txt §3418.2(d)."
* #symptom-self-management "Assisting in symptom self-monitoring and self-management" "001_531c4a09cf20a817.txt §3418.2(e)."
* #social-support-skills "Increasing social support skills and networks" "001_531c4a09cf20a817.txt §3418.2(f)."
* #out-of-home-placement-avoidance "Strategies for avoiding out-of-home placement and building family support skills" "001_531c4a09cf20a817.txt §3418.2(g)."
* #relapse-prevention "Developing mental health relapse prevention strategies and plans" "001_531c4a09cf20a817.txt §3418.2(h)."

ValueSet: DCCSServiceComponentVS
Id: dc-cs-service-component
Title: "DC Community Support interventions"
Description: "All codes of dc-cs-service-component."
* insert LocalVS(dc-cs-service-component)
* include codes from system $DcCsSC

CodeSystem: MACSPServiceComponent
Id: ma-csp-service-component
Title: "CCA CSP service components"
Description: "Required CSP service components (002_a91a28d9256cacc7.txt Components of Service/Provider Responsibilities: 'The scope of required service components')."
* insert LocalCS(ma-csp-service-component)
* #case-management "Case management" "002_a91a28d9256cacc7.txt Components of Service (required service components: case management)."
* #crisis-prevention-plan "Development and/or updating of crisis prevention plan" "002_a91a28d9256cacc7.txt Components of Service (required service components)."
* #needs-assessment "Needs assessment" "002_a91a28d9256cacc7.txt Components of Service (required service components); Assessment, Treatment/Recovery Planning and Documentation."
* #service-plan "CSP treatment/service plan" "002_a91a28d9256cacc7.txt Components of Service (required service components)."
* #service-coordination "Service coordination and linkage" "002_a91a28d9256cacc7.txt Components of Service (service coordination and linkage, relative to services in the CSP treatment/service plan)."
* #engagement-travel "Travel time for initial and on-going engagement" "002_a91a28d9256cacc7.txt Components of Service (travel time as part of the engagement process)."
* #transportation-assistance "Temporary assistance with transportation to essential appointments" "002_a91a28d9256cacc7.txt Components of Service (temporary assistance with transportation)."
* #benefits-housing-assistance "Research/telephone time obtaining benefits, housing and health care" "002_a91a28d9256cacc7.txt Components of Service (research time/telephone time)."
* #natural-supports "Facilitating natural, peer and self-help supports and educational materials" "002_a91a28d9256cacc7.txt Components of Service (natural support systems)."
* #crisis-support "Support during a behavioral health crisis" "002_a91a28d9256cacc7.txt Components of Service (support for members experiencing a behavioral health crisis)."
* #telehealth-assistance "On-site assistance with telehealth technology" "002_a91a28d9256cacc7.txt Components of Service (on-site assistance to secure and use telehealth technology)."

ValueSet: MACSPServiceComponentVS
Id: ma-csp-service-component
Title: "CCA CSP service components"
Description: "All codes of ma-csp-service-component."
* insert LocalVS(ma-csp-service-component)
* include codes from system $MaCspSC

CodeSystem: PATCMServiceComponent
Id: pa-tcm-service-component
Title: "PA TCM roles"
Description: "TCM roles (004_55627d390f551fcd.txt 3.1.1-3.1.12)."
* insert LocalCS(pa-tcm-service-component)
* #recovery-support "Providing support to members in their recovery" "004_55627d390f551fcd.txt 3.1.1."
* #access-assistance "Assisting in accessing behavioral/physical health services, benefits, justice system, vocational and educational needs" "004_55627d390f551fcd.txt 3.1.2."
* #face-to-face-assessment "Face-to-face assessments and identifying treatment needs" "004_55627d390f551fcd.txt 3.1.3."
* #appointment-advocacy "Assisting with appointments and advocating for needed services" "004_55627d390f551fcd.txt 3.1.4."
* #ispt-facilitation "Facilitating ISPT/team meetings, treatment, discharge planning and after care" "004_55627d390f551fcd.txt 3.1.5."
* #service-coordination "Coordinating all services supporting the recovery plan" "004_55627d390f551fcd.txt 3.1.6."
* #independence-promotion "Promoting member independence in the community" "004_55627d390f551fcd.txt 3.1.7."
* #natural-supports "Identifying natural and community supports" "004_55627d390f551fcd.txt 3.1.8."
* #sdoh-assistance "Assisting with social determinants of health" "004_55627d390f551fcd.txt 3.1.9."
* #physical-health-coordination "Coordinating physical health needs, appointments and follow up" "004_55627d390f551fcd.txt 3.1.10."
* #post-hospital-follow-up "Follow up after hospitalization to assure after care" "004_55627d390f551fcd.txt 3.1.11; 1.2.2.1."
* #crisis-plan "Developing and coordinating a crisis plan between systems" "004_55627d390f551fcd.txt 3.1.12."

ValueSet: PATCMServiceComponentVS
Id: pa-tcm-service-component
Title: "PA TCM roles"
Description: "All codes of pa-tcm-service-component."
* insert LocalVS(pa-tcm-service-component)
* include codes from system $PaTcmSC
