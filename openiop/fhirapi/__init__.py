"""The FHIR R4 API: what leaves the program for other systems, and on what terms.

- `models.ApiClient` is one integration: a bearer key with SMART-style `system/<Type>.read` scopes, and a
  recipient identity (organization name, purposes: treatment / payment / health care operations) that a
  patient's 42 CFR Part 2 consent can name. `ExportJob` is a Bulk Data `$export`.
- `resources.py` is the registry of resource types (`Provider`: rows, FHIR shape, search parameters);
  Patient, Practitioner, CareTeam, Appointment (a session) and Encounter (one patient's part in a session,
  with the rooms app's attendance) live there; other apps register theirs in `ready()`.
- `part2.py` decides, per request, which Part 2 patients stay in (withheld: same 404 as a missing record)
  and which leave because an active, unexpired Part 2 consent names this integration for its purposes;
  every resource about the latter carries the redisclosure notice (security labels + narrative).
- `views.py` serves read, search, `metadata` and `$export`; `services.py` writes (integrations, exports);
  every disclosure is an audit `read` entry, Part 2 ones with the consent behind them."""
