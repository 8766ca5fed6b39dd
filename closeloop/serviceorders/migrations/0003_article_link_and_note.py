"""The technical-support answer's knowledge-base article becomes a link to knowledge.Article; the free
text it was is kept as the article note, and linked where it names an article's title exactly."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def link_by_title(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    ServiceOrder = apps.get_model("serviceorders", "ServiceOrder")
    Article = apps.get_model("knowledge", "Article")
    titles: dict[str, list[int]] = {}
    for pk, title in Article.objects.values_list("pk", "title"):
        titles.setdefault(title.strip().casefold(), []).append(pk)
    for order in ServiceOrder.objects.exclude(article_note="").only("pk", "article_note").iterator():
        found = titles.get(order.article_note.strip().casefold(), [])
        if len(found) == 1:  # two articles of that title: which one is not ours to guess
            ServiceOrder.objects.filter(pk=order.pk).update(article_id=found[0])


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0002_search_index"),
        ("serviceorders", "0002_kb_updated_at_index_and_feed"),
    ]

    operations = [
        migrations.RenameField(model_name="serviceorder", old_name="article", new_name="article_note"),
        migrations.AlterField(
            model_name="serviceorder",
            name="article_note",
            field=models.CharField(blank=True, max_length=200, verbose_name="note on the article"),
        ),
        migrations.AddField(
            model_name="serviceorder",
            name="article",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="service_orders",
                to="knowledge.article",
                verbose_name="knowledge-base article used",
            ),
        ),
        migrations.RunPython(link_by_title, migrations.RunPython.noop),
    ]
