# The charge lists' keyset indexes. Built before the two they replace are dropped,
# and on PostgreSQL concurrently: the table stays writable meanwhile.

from django.db import migrations, models

from feemgmt.core.migration_ops import AddIndexOnline, RemoveIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("billing", "0004_charge_contract_index_covered"),
        ("contracts", "0001_initial"),
    ]

    operations = [
        AddIndexOnline(
            model_name="charge",
            index=models.Index(fields=["status", "due_date", "id"], name="charge_status_due_id"),
        ),
        AddIndexOnline(
            model_name="charge",
            index=models.Index(fields=["due_date", "id"], name="charge_due_id"),
        ),
        AddIndexOnline(
            model_name="charge",
            index=models.Index(fields=["kind", "due_date", "id"], name="charge_kind_due_id"),
        ),
        RemoveIndexOnline(model_name="charge", name="billing_cha_status_1cc57f_idx"),
        RemoveIndexOnline(model_name="charge", name="billing_cha_due_dat_2b2b10_idx"),
    ]
