#!/usr/bin/env bash
# Publish a built site (output/) to the nginx host over SSH, with rsync: what the workflow's
# deploy job runs when the repository variable DEPLOY_TARGET is "nginx" (GitHub Pages otherwise).
# nginx then serves it with deploy/nginx-site.conf, whose headers (the CSP with
# frame-ancestors, HSTS...) GitHub Pages cannot send.
#
#   bash deploy/publish-rsync.sh output
#
# From the environment (the workflow passes repository secrets and variables):
#   DEPLOY_SSH_KEY      the private key of a deploy-only account on the host (secret)
#   DEPLOY_KNOWN_HOSTS  the host's public key, as `ssh-keyscan -p PORT HOST` prints it and as you
#                       checked it on the host itself (secret): the one key accepted, so that
#                       nobody in between can pose as the host
#   DEPLOY_HOST, DEPLOY_USER   where to, as whom
#   DEPLOY_PORT         default 22
#   DEPLOY_PATH         default /srv/knn-site/output (the root of deploy/nginx-site.conf)
#
# New and changed files are put in place together at the end (--delay-updates), files the site
# no longer has are deleted after that (--delete-delay): visitors never see half a site. A
# failed transfer leaves the site as it was.
set -euo pipefail

source_dir="${1:?usage: publish-rsync.sh OUTPUT_DIR}"
: "${DEPLOY_SSH_KEY:?the deploy key (secret DEPLOY_SSH_KEY) is not set}"
: "${DEPLOY_KNOWN_HOSTS:?the host key (secret DEPLOY_KNOWN_HOSTS) is not set: it is never taken on trust}"
: "${DEPLOY_HOST:?DEPLOY_HOST is not set}"
: "${DEPLOY_USER:?DEPLOY_USER is not set}"
port="${DEPLOY_PORT:-22}"
target="${DEPLOY_PATH:-/srv/knn-site/output}"
[ -f "$source_dir/index.html" ] || { echo "publish-rsync: $source_dir/index.html is missing: build first" >&2; exit 2; }

keys="$(mktemp -d)"
trap 'rm -rf "$keys"' EXIT
umask 077
printf '%s\n' "$DEPLOY_SSH_KEY" > "$keys/id"
printf '%s\n' "$DEPLOY_KNOWN_HOSTS" > "$keys/known_hosts"

ssh_command="ssh -p $port -i $keys/id -o IdentitiesOnly=yes -o BatchMode=yes \
-o StrictHostKeyChecking=yes -o UserKnownHostsFile=$keys/known_hosts -o GlobalKnownHostsFile=/dev/null"
rsync --recursive --links --times --perms --chmod=D755,F644 --delete-delay --delay-updates \
    --rsh "$ssh_command" "$source_dir/" "$DEPLOY_USER@$DEPLOY_HOST:$target/"
echo "published $source_dir to $DEPLOY_HOST:$target"
