// One valid example per enrollment profile and of the member's coverage. Synthetic data.

RuleSet: ExampleEpisodeCore(program)
* status = #active
* statusHistory[0].status = #active
* statusHistory[0].period.start = "2026-01-12"
* type[program] = $BHProgram#{program}
* patient = Reference(Patient/example-patient)
* managingOrganization = Reference(Organization/example-agency)
* period.start = "2026-01-12"
* referralRequest = Reference(ServiceRequest/{program}-servicerequest-example)
* careManager = Reference(Practitioner/example-practitioner)
* diagnosis[0].condition = Reference(Condition/example-condition)
* diagnosis[0].role = $DiagnosisRole#AD "Admission diagnosis"
* diagnosis[0].rank = 1

Instance: example-condition
InstanceOf: Condition
Usage: #example
Title: "Synthetic diagnosis (ICD-10-CM)"
* clinicalStatus = http://terminology.hl7.org/CodeSystem/condition-clinical#active
* verificationStatus = http://terminology.hl7.org/CodeSystem/condition-ver-status#confirmed
* category[0] = http://terminology.hl7.org/CodeSystem/condition-category#encounter-diagnosis
* code = $ICD10CM#F33.1
* subject = Reference(Patient/example-patient)

Instance: example-coverage
InstanceOf: BHCoverage
Usage: #example
Title: "Synthetic Medicaid coverage"
* identifier[memberId].type = $V2IdType#MB
* identifier[memberId].system = "https://fhiradapter.org/fhir/sid/payer/example-medicaid"
* identifier[memberId].value = "900000123"
* status = #active
* subscriberId = "900000123"
* beneficiary = Reference(Patient/example-patient)
* payor = Reference(Organization/example-payer)
* period.start = "2026-01-01"
* class[plan].type = $CoverageClass#plan
* class[plan].value = "MEDICAID-BH"
* class[plan].name = "Medicaid behavioral health"

Instance: mt-cmp-episodeofcare-example
InstanceOf: MTCMPEpisodeOfCare
Usage: #example
Title: "MT CMP enrollment, open"
* insert ExampleEpisodeCore(mt-cmp)

Instance: mt-imr-episodeofcare-example
InstanceOf: MTIMREpisodeOfCare
Usage: #example
Title: "MT IMR enrollment, open"
* insert ExampleEpisodeCore(mt-imr)

Instance: dc-cs-episodeofcare-example
InstanceOf: DCCSEpisodeOfCare
Usage: #example
Title: "DC Community Support enrollment, open"
* insert ExampleEpisodeCore(dc-cs)

Instance: ma-csp-episodeofcare-example
InstanceOf: MACSPEpisodeOfCare
Usage: #example
Title: "MA CSP enrollment, open"
* insert ExampleEpisodeCore(ma-csp)

Instance: pa-tcm-episodeofcare-example
InstanceOf: PATCMEpisodeOfCare
Usage: #example
Title: "PA TCM enrollment, discharged"
* insert ExampleEpisodeCore(pa-tcm)
* status = #finished
* statusHistory[0].period.end = "2026-04-10"
* statusHistory[1].status = #finished
* statusHistory[1].period.start = "2026-04-10"
* period.end = "2026-04-10"
* type[tcmType] = $TCMType#icm
