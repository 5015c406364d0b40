from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("authcheck", "0009_audit_created_at_hashed")]

    operations = [
        migrations.CreateModel(
            name="TrustListImport",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=32)),
                ("pem", models.TextField()),
                ("sha256", models.CharField(max_length=64)),
                ("certificates", models.PositiveIntegerField()),
                ("source", models.CharField(blank=True, max_length=500)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "indexes": [models.Index(fields=["name", "-id"], name="trustlist_name_newest")],
            },
        ),
        migrations.AlterField(
            model_name="media",
            name="kind",
            field=models.CharField(
                choices=[
                    ("image", "Image"),
                    ("video", "Video"),
                    ("audio", "Audio"),
                    ("document", "Document"),
                    ("other", "Other"),
                ],
                default="other",
                max_length=10,
            ),
        ),
    ]
