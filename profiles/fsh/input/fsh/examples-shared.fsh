// Example data shared by the program examples: one synthetic member, practitioner and agencies.
// Synthetic people only.

RuleSet: ExampleEncounterCore(program)
* status = #finished
* subject = Reference(Patient/example-patient)
* participant[0].type = $ParticipationType#PPRF
* participant[0].individual = Reference(Practitioner/example-practitioner)
* serviceProvider = Reference(Organization/example-agency)
* serviceType.coding[program] = $BHProgram#{program}

RuleSet: ExampleCarePlanCore(program)
* status = #active
* intent = #plan
* category[assessPlan] = $USCoreCPCat#assess-plan
* category[program] = $BHProgram#{program}
* subject = Reference(Patient/example-patient)
* author = Reference(Practitioner/example-practitioner)

RuleSet: ExampleServiceRequestCore(program)
* status = #active
* intent = #order
* category[program] = $BHProgram#{program}
* subject = Reference(Patient/example-patient)
* requester = Reference(Organization/example-payer)
* occurrencePeriod.start = "2026-01-05"

RuleSet: ExampleConsentCore(program)
* status = #active
* scope = $ConsentScope#patient-privacy
* category[loinc] = $LOINC#59284-0 "Patient Consent"
* category[program] = $BHProgram#{program}
* patient = Reference(Patient/example-patient)
* dateTime = "2026-01-05T10:00:00-07:00"
* organization = Reference(Organization/example-agency)
* policy[0].uri = "https://www.ecfr.gov/current/title-42/chapter-I/subchapter-A/part-2"
* provision.type = #permit
* provision.period.start = "2026-01-05"
* provision.period.end = "2027-01-05"
* provision.actor[recipient].role = $ParticipationType#IRCP
* provision.actor[recipient].reference = Reference(Organization/example-payer)
* provision.purpose[0] = $ActReason#HPAYMT "healthcare payment"
* provision.purpose[1] = $ActReason#TREAT "treatment"

Instance: example-patient
InstanceOf: Patient
Usage: #example
Title: "Synthetic member"
* identifier[0].system = "https://fhiradapter.org/fhir/sid/example-agency/member"
* identifier[0].value = "M-000123"
* name[0].family = "Example"
* name[0].given[0] = "Sam"
* gender = #other
* birthDate = "1980-04-01"

Instance: example-practitioner
InstanceOf: Practitioner
Usage: #example
Title: "Synthetic practitioner"
* identifier[0].system = "http://hl7.org/fhir/sid/us-npi"
* identifier[0].value = "1000000004"
* name[0].family = "Clinician"
* name[0].given[0] = "Alex"
* qualification[0].code = $Qual#licsw "LICSW"

Instance: example-agency
InstanceOf: Organization
Usage: #example
Title: "Synthetic provider agency"
* identifier[0].system = "https://fhiradapter.org/fhir/sid/example-agency/organization"
* identifier[0].value = "AGENCY-1"
* name = "Example Community Behavioral Health Agency"
* type[0] = $NUCC#251S00000X "Community/Behavioral Health"

Instance: example-payer
InstanceOf: Organization
Usage: #example
Title: "Synthetic payer"
* identifier[0].system = "https://fhiradapter.org/fhir/sid/example-agency/payer"
* identifier[0].value = "PAYER-1"
* name = "Example Medicaid Plan"
