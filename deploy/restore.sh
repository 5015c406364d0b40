#!/bin/sh
# Restore a deploy/backup.sh directory into an EMPTY database and media directory, then
# prove it: the audit chain verifies against the saved checkpoints and every media file
# matches its SHA-256. Run with the image's environment (python manage.py must work).
#
#   OWNER_DATABASE_URL=postgres://authcheck:...@db/authcheck_restored \
#   MEDIA_DIR=/data/media sh deploy/restore.sh /backups/2026-12-01
set -eu
src="${1:?usage: restore.sh DIR}"
: "${OWNER_DATABASE_URL:?set OWNER_DATABASE_URL (an empty database owned by this role)}"
( cd "$src" && sha256sum --check --quiet SHA256SUMS )
pg_restore --no-owner --no-privileges --exit-on-error --dbname="$OWNER_DATABASE_URL" "$src/db.dump"
if [ -f "$src/media.tar" ]; then
  : "${MEDIA_DIR:?set MEDIA_DIR to restore the media files into}"
  mkdir -p "$MEDIA_DIR"
  tar -C "$MEDIA_DIR" -xf "$src/media.tar"
fi
here="$(cd "$(dirname "$0")/.." && pwd)"
export DATABASE_URL="$OWNER_DATABASE_URL"
if [ -f "$src/audit-checkpoints.jsonl" ]; then
  python "$here/manage.py" audit_verify --checkpoint "$src/audit-checkpoints.jsonl"
else
  python "$here/manage.py" audit_verify
fi
python "$here/manage.py" media_verify
# The owner restored the tables; give the application role its grants back.
echo "restored; now run: python manage.py db_app_role --password-file FILE"
