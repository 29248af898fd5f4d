"""The person's rights over their data: see what we hold, download it, erase it.

Everything here is driven by the data map (registry.py) and imports no other app of the project:
the generic code walks every declared model that has a subject path, and apps add what no
subject path finds through handlers they register in their own privacy.py (exporters, erasers,
cache keys). The person is the user model (`get_user_model()`), named by id.

- Corrections you made: `corrections_of` lists the person's corrections from the audit trail.
- The data we hold: `data_held` counts, per data category, the person's rows and names the
  fields and why we hold them.
- Download my data: `export_request` → task `build_data_export` → `export_build` writes a ZIP
  (the access package of package.py: data.json, CSV files, index.html) sealed with the person's
  data key under a random storage name and e-mails a single-use link → `export_download` opens
  it once, then deletes the file.
- Delete my account: `erasure_request` → task `erase_account` → `erasure_run` runs every step of
  `erasure_steps()` in order, each in its own transaction and recorded in
  ErasureJob.completed_steps, so a killed run started again finishes without redoing a step; the
  last transaction writes one DestructionRecord (docs/decisions/0005-erasure.md).
"""
