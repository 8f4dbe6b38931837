from django.db import migrations

from contracts import triggers


class Migration(migrations.Migration):
    """The database refuses any in-place change of a signed contract's fee terms
    (contracts/triggers.py); fee changes are amendments."""

    dependencies = [("contracts", "0001_initial")]

    operations = [migrations.RunPython(triggers.migrate_install, triggers.migrate_remove)]
