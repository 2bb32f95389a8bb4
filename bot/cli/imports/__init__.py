"""Importers of the catalogue, member companies and contacts: check everything, then write all.

Each importer reads one file into frozen entries, records every bad value with its line and
field, and writes nothing unless the whole file is good, in one transaction (`db.atomic()`),
upserting by natural key (topic slug, session id, member id, WhatsApp number) so that
importing the same file twice changes nothing more than once.

Errors: `FileProblem` (the file cannot be used at all) and `ImportFailed` (rows are wrong,
`.errors` lists them all). The CLI turns both into messages for the operator.
"""

from __future__ import annotations

from bot.cli.imports.catalogue import CatalogueSummary, import_catalogue
from bot.cli.imports.companies import CompaniesSummary, import_companies
from bot.cli.imports.contacts import ContactsSummary, import_contacts
from bot.cli.imports.problems import FileProblem, ImportFailed, RowError

__all__ = [
    "CatalogueSummary",
    "CompaniesSummary",
    "ContactsSummary",
    "FileProblem",
    "ImportFailed",
    "RowError",
    "import_catalogue",
    "import_companies",
    "import_contacts",
]
