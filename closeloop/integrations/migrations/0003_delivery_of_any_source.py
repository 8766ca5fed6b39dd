"""A webhook delivery carries an entry of any source of the change feed (integrations/feed.py): the
foreign key to a complaint event becomes (source, event id); existing deliveries are complaint events."""

from django.db import migrations, models


def copy_event_ids(apps, schema_editor):
    Delivery = apps.get_model("integrations", "WebhookDelivery")
    for row in Delivery.objects.only("pk", "event_id").iterator():
        Delivery.objects.filter(pk=row.pk).update(event_row=row.event_id)


class Migration(migrations.Migration):
    dependencies = [("integrations", "0002_updated_at_and_feed")]

    operations = [
        migrations.RemoveConstraint(model_name="webhookdelivery", name="webhook_delivery_once"),
        migrations.AddField(
            model_name="webhookdelivery",
            name="source",
            field=models.CharField(default="complaint", max_length=30, verbose_name="event source"),
        ),
        migrations.AddField(
            model_name="webhookdelivery", name="cursor", field=models.CharField(blank=True, max_length=400)
        ),
        migrations.AlterField(
            model_name="webhooksubscription",
            name="cursor",
            field=models.CharField(blank=True, editable=False, max_length=400),
        ),
        migrations.AddField(model_name="webhookdelivery", name="event_row", field=models.BigIntegerField(null=True)),
        migrations.RunPython(copy_event_ids, migrations.RunPython.noop),
        migrations.RemoveField(model_name="webhookdelivery", name="event"),
        migrations.RenameField(model_name="webhookdelivery", old_name="event_row", new_name="event_id"),
        migrations.AlterField(
            model_name="webhookdelivery", name="event_id", field=models.BigIntegerField(verbose_name="event")
        ),
        migrations.AddConstraint(
            model_name="webhookdelivery",
            constraint=models.UniqueConstraint(
                fields=("subscription", "source", "event_id"), name="webhook_delivery_once_v2"
            ),
        ),
    ]
