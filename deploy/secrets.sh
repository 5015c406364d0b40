#!/bin/sh
# Create the secret files compose mounts (deploy/secrets/), once. Never committed.
# The directory is private (700); the files are 644 because compose bind-mounts them with
# their host ownership and the containers read them as their own users (10001, postgres).
#   sh deploy/secrets.sh            # then: docker compose -f deploy/compose.yaml up -d
set -eu
dir="${1:-$(dirname "$0")/secrets}"
mkdir -p "$dir"
chmod 700 "$dir"
umask 022
random() { python3 -c "import secrets; print(secrets.token_urlsafe($1))"; }
keep() { [ -s "$dir/$1" ] || printf '%s\n' "$2" > "$dir/$1"; }
keep django_secret_key "$(random 50)"
keep db_owner_password "$(random 24)"
keep db_app_password "$(random 24)"
keep metrics_token "$(random 32)"
keep s3_access_key "authcheck$(random 6 | tr -dc 'a-zA-Z0-9')"
keep s3_secret_key "$(random 30)"
owner="$(cat "$dir/db_owner_password")"
app="$(cat "$dir/db_app_password")"
keep owner_database_url "postgres://authcheck:$owner@db:5432/authcheck"
keep database_url "postgres://authcheck_app:$app@db:5432/authcheck"
# Kubernetes reads the broker URL from the secret too (it may carry a password there).
keep broker_url "redis://redis:6379/0"
echo "secrets in $dir"
