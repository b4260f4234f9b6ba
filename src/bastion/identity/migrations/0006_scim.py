# SCIM 2.0 provisioning: tokens, identities and groups per organisation, under row-level security.

import uuid

import django.db.models.deletion
import django.db.models.manager
from django.conf import settings
from django.db import migrations, models

from bastion.db.rls import EnableTenantRLS

# A token row is visible in its organisation's context, or, to authenticate a request before the
# organisation is known, when the request has bound exactly that token's public id (as API keys do).
SCIM_TOKEN_READ = (
    "organisation_id = bastion_current_org()"
    " OR public_id = nullif(current_setting('bastion.scim_token_id', true), '')"
)


def _tenant_managers():
    return [('objects', django.db.models.manager.Manager()), ('all_tenants', django.db.models.manager.Manager())]


def _tenant_fields():
    return [
        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
        ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+',
                                           to='tenancy.organisation')),
    ]


class Migration(migrations.Migration):

    dependencies = [
        ("identity", "0005_sso_connections"),
        ('tenancy', '0002_organisation_mfa_required'),
    ]

    operations = [
        migrations.CreateModel(
            name='ScimToken',
            fields=[
                *_tenant_fields(),
                ('public_id', models.CharField(max_length=12, unique=True)),
                ('secret_hash', models.CharField(max_length=64)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE,
                                                 related_name='+', to=settings.AUTH_USER_MODEL)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('revoked_at', models.DateTimeField(blank=True, null=True)),
                ('last_used_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'ordering': ['-created_at'],
                'constraints': [models.UniqueConstraint(condition=models.Q(('revoked_at__isnull', True)),
                                                        fields=('organisation',), name='identity_scimtoken_one_live')],
            },
            managers=_tenant_managers(),
        ),
        migrations.CreateModel(
            name='ScimIdentity',
            fields=[
                *_tenant_fields(),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+',
                                           to=settings.AUTH_USER_MODEL)),
                ('user_name', models.CharField(max_length=254)),
                ('external_id', models.CharField(blank=True, max_length=255)),
                ('given_name', models.CharField(blank=True, max_length=150)),
                ('family_name', models.CharField(blank=True, max_length=150)),
                ('emails', models.JSONField(blank=True, default=list)),
                ('active', models.BooleanField(default=True, null=True,
                                               help_text='as the provider set it; empty when it removed it')),
                ('manages_account', models.BooleanField(default=False,
                                                        help_text="this organisation's provider created the account")),
                ('created', models.DateTimeField(auto_now_add=True)),
                ('last_modified', models.DateTimeField(auto_now=True)),
            ],
            options={
                'ordering': ['created', 'id'],
                'constraints': [
                    models.UniqueConstraint(fields=('organisation', 'user'), name='identity_scimidentity_user'),
                    models.UniqueConstraint(fields=('organisation', 'user_name'), name='identity_scimidentity_user_name'),
                ],
            },
            managers=_tenant_managers(),
        ),
        migrations.CreateModel(
            name='ScimGroup',
            fields=[
                *_tenant_fields(),
                ('display_name', models.CharField(max_length=255)),
                ('external_id', models.CharField(blank=True, max_length=255)),
                ('created', models.DateTimeField(auto_now_add=True)),
                ('last_modified', models.DateTimeField(auto_now=True)),
            ],
            options={
                'ordering': ['display_name'],
                'constraints': [models.UniqueConstraint(fields=('organisation', 'display_name'),
                                                        name='identity_scimgroup_display_name')],
            },
            managers=_tenant_managers(),
        ),
        migrations.CreateModel(
            name='ScimGroupMember',
            fields=[
                *_tenant_fields(),
                ('group', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships',
                                            to='identity.scimgroup')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+',
                                           to=settings.AUTH_USER_MODEL)),
                ('added_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'ordering': ['added_at', 'id'],
                'constraints': [models.UniqueConstraint(fields=('group', 'user'), name='identity_scimgroupmember_unique')],
            },
            managers=_tenant_managers(),
        ),
        migrations.AddField(
            model_name='scimgroup',
            name='members',
            field=models.ManyToManyField(related_name='+', through='identity.ScimGroupMember', to=settings.AUTH_USER_MODEL),
        ),
        EnableTenantRLS("scimtoken", using=SCIM_TOKEN_READ),
        EnableTenantRLS("scimidentity"),
        EnableTenantRLS("scimgroup"),
        EnableTenantRLS("scimgroupmember"),
    ]
