#!/usr/bin/env bash
# `make data`: get the face data on a machine with internet, verified against data/checksums/*.SHA256SUMS.
#
# Not needed where OCCFACE_DATA already points at a folder holding lfw/, att_faces/ and occluders/
# (the project's shared data package): then this script only verifies it and exits.
#
# Otherwise it downloads into data/raw/ (or $1) from the sources the shared package was built from:
#   lfw/lfw-deepfunneled/   github.com/braun-steven/dfi-tensorflow @ 0a86d9a0 (data/lfw-deepfunneled/),
#                           the same images as UMass's lfw-deepfunneled.tgz
#   lfw/pairs.txt           github.com/davidsandberg/facenet @ 096ed770 (data/pairs.txt)
#   lfw/pairsDev*.txt       github.com/shaileshbelose/frs @ bf687bd9
#   att_faces/              github.com/ChiTatZhang/server_graduate @ 0493bc9a (att_faces/s1..s40, README)
#   occluders/              assembled from MaskTheFace, Fluent Emoji 3D, Noto Emoji and Openclipart (see
#                           occluders/README.md in the data package); no single public archive exists, so
#                           copy the folder from the project's data package and this script verifies it.
# Then: export OCCFACE_DATA=$PWD/data/raw
#
# Exit status: 0 when every listed file matches its checksum; 1 when any data file is missing or differs
# (each named on stderr) or a folder is missing. Documentation files that no notebook reads (README,
# README.md, SHA256SUMS, *.derived.txt) may be missing (the downloads do not include them); where present
# and different they are named in a warning and do not fail the check.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
sums="$here/data/checksums"

damaged=()  # "<set>/<file> (why)" of every data file that failed
docs=()     # documentation files that differ (warning only)

is_doc() { case "$(basename "$1")" in README|README.md|SHA256SUMS|*.derived.txt) return 0;; esac; return 1; }

verify() {  # verify <folder> <name>: every file of data/checksums/<name>.SHA256SUMS; failures collected by name
  local dir="$1" name="$2" line path why bad=0
  if [ ! -d "$dir" ]; then damaged+=("$name/ (no folder $dir)"); return 1; fi
  while IFS= read -r line; do
    path="${line%%: FAILED*}"; why="${line#"$path": }"; path="${path#./}"
    if is_doc "$path"; then
      [ "$why" = "FAILED open or read" ] || docs+=("$name/$path")
      continue
    fi
    case "$why" in
      "FAILED open or read") why="missing or unreadable" ;;
      FAILED) why="checksum differs" ;;
    esac
    damaged+=("$name/$path ($why)"); bad=1
  done < <(cd "$dir" && LC_ALL=C sha256sum -c "$sums/$name.SHA256SUMS" 2>/dev/null | grep -v ': OK$' || true)
  if [ "$bad" -eq 0 ]; then echo "verified $dir"; fi
  return "$bad"
}

report() {  # report <what to do>: name every failure; exit 1 if a data file failed
  if [ "${#docs[@]}" -gt 0 ]; then
    echo "warning: documentation file(s) differ from data/checksums/ (no notebook reads them): ${docs[*]}" >&2
  fi
  if [ "${#damaged[@]}" -gt 0 ]; then
    echo "error: ${#damaged[@]} file(s) failed verification against data/checksums/*.SHA256SUMS:" >&2
    printf '  %s\n' "${damaged[@]:0:50}" >&2
    if [ "${#damaged[@]}" -gt 50 ]; then echo "  ... and $(( ${#damaged[@]} - 50 )) more" >&2; fi
    echo "$1" >&2
    exit 1
  fi
}

if [ -n "${OCCFACE_DATA:-}" ] && [ -d "$OCCFACE_DATA/lfw" ]; then
  echo "OCCFACE_DATA=$OCCFACE_DATA already holds the data; verifying checksums (takes a few seconds)"
  for name in lfw att_faces occluders; do verify "$OCCFACE_DATA/$name" "$name" || true; done
  report "Restore the named files from the project's data package, or remove them and run 'make data' with OCCFACE_DATA unset to re-download LFW and ORL into data/raw."
  exit 0
fi

dest="${1:-$here/data/raw}"
mkdir -p "$dest"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT

sparse_fetch() {  # sparse_fetch <repo> <commit> <path> <target>
  git -C "$tmp" clone -q --filter=blob:none --no-checkout "https://github.com/$1.git" "$(basename "$1")"
  git -C "$tmp/$(basename "$1")" sparse-checkout set --no-cone "$3"
  git -C "$tmp/$(basename "$1")" checkout -q "$2"
  mkdir -p "$(dirname "$4")"; cp -r "$tmp/$(basename "$1")/$3" "$4"
}

if [ ! -d "$dest/lfw/lfw-deepfunneled" ]; then
  sparse_fetch braun-steven/dfi-tensorflow 0a86d9a0c4e0c208f03766075a0fbaead1374e3e data/lfw-deepfunneled "$dest/lfw/lfw-deepfunneled"
fi
curl -fsSL -o "$dest/lfw/pairs.txt" https://raw.githubusercontent.com/davidsandberg/facenet/096ed770f163957c1e56efa7feeb194773920f6e/data/pairs.txt
for f in pairsDevTrain.txt pairsDevTest.txt; do
  curl -fsSL -o "$dest/lfw/$f" "https://raw.githubusercontent.com/shaileshbelose/frs/bf687bd9e16ea050c0aa44277a01fcabd62c9a95/$f"
done
(cd "$dest/lfw/lfw-deepfunneled" && for d in */; do printf '%s\t%s\n' "${d%/}" "$(ls "$d" | wc -l)"; done) > "$dest/lfw/lfw-names.derived.txt"
if [ ! -d "$dest/att_faces/s1" ]; then
  sparse_fetch ChiTatZhang/server_graduate 0493bc9ab41f854477d891d1553ffce41918e8ae att_faces "$tmp/att_all"
  mkdir -p "$dest/att_faces"; cp "$tmp/att_all/README" "$dest/att_faces/"
  for i in $(seq 1 40); do cp -r "$tmp/att_all/s$i" "$dest/att_faces/"; done
fi
# Image files are checked; the package's README/SHA256SUMS files are not part of the download (see is_doc).
verify "$dest/lfw" lfw || true
verify "$dest/att_faces" att_faces || true
if [ -d "$dest/occluders" ]; then verify "$dest/occluders" occluders || true; fi
report "Remove the named files and re-run 'make data' to download them again."
if [ ! -d "$dest/occluders" ]; then
  echo "occluders/: copy the folder from the project's data package into $dest/occluders, then re-run 'make data' to verify" >&2
  exit 1
fi
echo "done: export OCCFACE_DATA=$dest"
