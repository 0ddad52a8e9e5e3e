"""Data exchange with other systems (issue 19), Qt-free: the FHIR R4B transaction bundle for the
hospital record (:mod:`.fhir_export`, :mod:`.fhir_validate`, :mod:`.fhir_import`, the shared
terms in :mod:`.fhir_terms`; ``fhir.resources`` is imported only inside the validation) and
the de-identified research export (:mod:`.research`)."""
