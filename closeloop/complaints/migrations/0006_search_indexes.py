"""Search indexes: batch numbers upper-cased (every database), and on PostgreSQL trigram GIN indexes
(pg_trgm, a trusted extension since PostgreSQL 13) on the columns a search reads with ILIKE/LIKE:
description, product text and number of complaints, name and phone of customers.

pg_trgm splits Chinese too (C.UTF-8 and other UTF-8 locales count CJK characters as letters), so a
term of three characters or more — 吸顶灯, a phone tail, TS2026 — is answered from the index; a
one- or two-character term has no trigram and is read by scanning (see docs/decisions.md)."""

import django.db.models.functions.text
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

TRIGRAM_INDEXES = [
    ("complaint_description_trgm", "complaints_complaint", "description"),
    ("complaint_product_text_trgm", "complaints_complaint", "product_text"),
    ("complaint_number_trgm", "complaints_complaint", "number"),
    ("customer_name_trgm", "directory_customer", "name"),
    ("customer_phone_trgm", "directory_customer", "phone"),
]


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, column in TRIGRAM_INDEXES:
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ("{column}" gin_trgm_ops)')


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in TRIGRAM_INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0005_closing"),
        ("directory", "0003_roster"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="complaint",
            index=models.Index(django.db.models.functions.text.Upper("batch_no"), name="complaint_batch_upper"),
        ),
        TrigramExtension(),  # does nothing on other databases
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
