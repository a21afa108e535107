"""The payer intake gateway (issue 15): `fhiradapter serve`. See docs/intake.md."""
