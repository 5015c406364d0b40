#!/bin/sh
# Back up what authcheck cannot recompute: the database (checks, verdicts, reviews, audit
# chain), the media store and the signed audit checkpoints. Restore with deploy/restore.sh.
#
#   OWNER_DATABASE_URL=postgres://authcheck:...@db/authcheck \
#   MEDIA_DIR=/data/media CHECKPOINTS=/checkpoints/audit-checkpoints.jsonl \
#   sh deploy/backup.sh /backups/$(date +%F)
#
# With AUTHCHECK_STORAGE=s3, leave MEDIA_DIR unset and protect the bucket itself (versioning
# plus replication, or `mc mirror` / `aws s3 sync` to a second bucket); see deploy/README.md.
# Take a checkpoint just before the dump so the copy can be verified up to its last event.
set -eu
out="${1:?usage: backup.sh DIR}"
mkdir -p "$out"
: "${OWNER_DATABASE_URL:?set OWNER_DATABASE_URL (the owner role: it can read every table)}"
# Custom format: compressed, restorable table by table, and consistent (one snapshot).
pg_dump --format=custom --no-owner --no-privileges --file="$out/db.dump" "$OWNER_DATABASE_URL"
if [ -n "${MEDIA_DIR:-}" ]; then
  # Only the media: the S3 read cache and sampled frames are recomputed on demand.
  tar -C "$MEDIA_DIR" --exclude=./cache --exclude=./frames -cf "$out/media.tar" .
fi
if [ -n "${CHECKPOINTS:-}" ]; then
  cp "$CHECKPOINTS" "$out/audit-checkpoints.jsonl"
fi
( cd "$out" && sha256sum -- * > SHA256SUMS )
echo "backup in $out"
