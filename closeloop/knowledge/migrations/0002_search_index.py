"""On PostgreSQL a trigram GIN index on the articles' normalised search text: a search is a LIKE '%…%'
on that one column (closeloop/knowledge/selectors.py), answered from the index for terms of three
characters or more (pg_trgm is created by complaints' migration 0006)."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'CREATE INDEX IF NOT EXISTS "article_search_trgm" ON "knowledge_article" USING gin ("search_text" gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('DROP INDEX IF EXISTS "article_search_trgm"')


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial"), ("complaints", "0006_search_indexes")]

    operations = [migrations.RunPython(create, drop)]
