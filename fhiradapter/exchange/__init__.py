"""Delivery of validated Bundles to a payer's FHIR endpoint, exactly once (issue 6).

Modules, one job each:
  inputs      find and load Bundles (files or a map/run output folder), make entries idempotent, chunk
  gate        local validation before anything leaves the machine
  auth        none / bearer / SMART Backend Services / mutual TLS
  retry       which failures are retried and how long to wait
  responses   tolerant parsing of transaction/batch responses and $validate answers
  client      one HTTP exchange with retries and a fixed X-Request-Id
  journal     the SQLite outbox: what was sent, what arrived, what failed
  sender      the loop tying the above together (resumable)
  report      `status`: counts per state, failures traced back to source file and row
"""
