#!/usr/bin/env bash
#
# Builds local stand-ins for the official images that docker-compose.yml, deploy/docker/Dockerfile
# and the Testcontainers Kafka use, for machines that reach no image registry but do reach a
# Debian mirror and Maven Central:
#
#   base          debootstrap --variant=minbase bookworm + OpenJDK 17 JRE, imported with
#                 `docker import` (the root of every other image)
#   eclipse-temurin:17-jre         the base itself
#   maven:3.9-eclipse-temurin-17   the base + JDK 17 + Debian's Maven, its Central a file mirror
#                                  holding the host's Maven repository
#   flink:2.2.1-java17             Flink's jars from Maven Central, the official entrypoint contract
#   apache/kafka:4.2.2             Kafka's jars from Maven Central, configured by KAFKA_* variables
#   prom/prometheus:v3.5.0         Debian's Prometheus
#
# What each reproduces of the official image, and what not: deploy/images/README.md.
#
#   deploy/images/build.sh          build what is missing or changed, then tag
#   deploy/images/build.sh --list   print the official names this script provides
#
# An official name is tagged only when no image of that name exists or the one there is an
# earlier local build: a pulled official image is never overwritten. Each image is keyed by a
# hash of its inputs (recipe, files, jars, base), so a second run builds nothing.
#
# Needs: a Docker engine, and for the base debootstrap and root (or SIFT_BASE_ROOTFS, a folder
# with a root file system to import instead). Environment:
#   SIFT_DEBIAN_MIRROR  the Debian mirror for debootstrap (default: the first Debian URI in this
#                       machine's APT sources)
#   MVN                 the Maven command (default: mvn -B -q)
#   SIFT_HOST_MAVEN_REPOSITORY  the host's Maven repository, the maven stand-in's Central
#                       (default: ~/.m2/repository; a prior `mvn -B verify` fills it)

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SUITE=bookworm
BASE_PACKAGES=openjdk-17-jre-headless
LABEL=dev.sift.local-image
read -r -a MVN_COMMAND <<<"${MVN:-mvn -B -q}"
HOST_REPOSITORY=${SIFT_HOST_MAVEN_REPOSITORY:-$HOME/.m2/repository}

# official name : local name : recipe folder(s) under deploy/images
IMAGES=(
    "eclipse-temurin:17-jre:base:"
    "maven:3.9-eclipse-temurin-17:maven:maven"
    "flink:2.2.1-java17:flink:flink target/flink-lib target/flink-plugins"
    "apache/kafka:4.2.2:kafka:kafka target/kafka-libs"
    "prom/prometheus:v3.5.0:prometheus:prometheus"
)

log() { printf '[images %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() {
    echo "images: $*" >&2
    exit 1
}

# Splits "official:tag:local:folders" (the official name has one colon itself).
official_name() { sed -E 's/^([^:]+:[^:]+):.*/\1/' <<<"$1"; }
local_name() { cut -d: -f3 <<<"$1"; }
folders() { cut -d: -f4- <<<"$1"; }

hash_inputs() {
    local folder
    {
        for folder in "$@"; do
            (cd "$HERE" && find "$folder" -type f -print0 | sort -z | xargs -0 -r sha256sum)
        done
    } | sha256sum | cut -c1-16
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# The first Debian archive URI in APT's sources (deb822 or one-line format), not a security one.
debian_mirror() {
    if [[ -n ${SIFT_DEBIAN_MIRROR:-} ]]; then
        echo "$SIFT_DEBIAN_MIRROR"
        return
    fi
    local uri
    uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
        sed -n 's/^URIs:[[:space:]]*//p' | tr ' ' '\n' | grep -v -e security -e '^$' | head -n1 || true)
    if [[ -z $uri ]]; then
        uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
            awk '$1 == "deb" && $0 !~ /security/ {print ($2 ~ /^\[/ ? $3 : $2); exit}' || true)
    fi
    [[ -n $uri ]] || die "no Debian mirror in /etc/apt/sources.list(.d); set SIFT_DEBIAN_MIRROR"
    echo "$uri"
}

build_base() {
    local key=$1 tag=$2 rootfs
    if [[ -n ${SIFT_BASE_ROOTFS:-} ]]; then
        rootfs=$SIFT_BASE_ROOTFS
    else
        command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
        [[ $(id -u) == 0 ]] || die "debootstrap needs root"
        rootfs=$(mktemp -d /tmp/sift-base-rootfs.XXXXXX)
        local mirror
        mirror=$(debian_mirror)
        log "debootstrap $SUITE (minbase + $BASE_PACKAGES) from $mirror"
        debootstrap --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "$rootfs" "$mirror" \
            >"$rootfs.log" 2>&1 || {
            tail -n 20 "$rootfs.log" >&2
            die "debootstrap failed; its log: $rootfs.log"
        }
        rm -f "$rootfs.log"
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    fi
    log "importing the base as $tag"
    tar -C "$rootfs" -c . | docker import \
        --change "LABEL $LABEL=base" --change "LABEL dev.sift.inputs=$key" \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["/bin/bash"]' - "$tag" >/dev/null
    [[ -n ${SIFT_BASE_ROOTFS:-} ]] || rm -rf "$rootfs"
}

# The maven stand-in's "Maven Central": the host's Maven repository (which a prior build filled
# with everything the Dockerfile's build stage resolves), hard-linked where it can be, without
# Sift's own artifacts, which that stage builds.
maven_seed() {
    local seed=$HERE/target/maven-seed
    log "seeding the maven stand-in's repository from $HOST_REPOSITORY"
    rm -rf "$seed"
    mkdir -p "$HERE/target"
    cp -al "$HOST_REPOSITORY" "$seed" 2>/dev/null || cp -a "$HOST_REPOSITORY" "$seed"
    rm -rf "$seed/dev/sift"
}

# What the seed would hold: every file's path and size (hashing 1 GB of jars would take longer).
host_repository_listing() {
    (cd "$HOST_REPOSITORY" && find . -path ./dev/sift -prune -o -type f -printf '%P %s\n' | sort)
}

# Resolves the jars unless the poms that pin them are unchanged since the last resolution.
jars() {
    local key stamp=$HERE/target/jars.key
    key=$(cat "$HERE/pom.xml" "$ROOT/pom.xml" | sha256sum | cut -c1-16)
    if [[ -f $stamp && $(cat "$stamp") == "$key" ]]; then
        log "Flink's and Kafka's jars are resolved"
        return
    fi
    log "resolving Flink's and Kafka's jars with Maven"
    (cd "$ROOT" && "${MVN_COMMAND[@]}" -f deploy/images/pom.xml package -Dspotless.check.skip=true) ||
        die "Maven could not resolve the images' jars (deploy/images/pom.xml)"
    echo "$key" >"$stamp"
}

# Tags the official name unless a foreign (e.g. pulled) image holds it.
tag_official() {
    local built=$1 official=$2 owner
    if image_exists "$official"; then
        owner=$(docker image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$official" 2>/dev/null || true)
        if [[ -z $owner || $owner == "<no value>" ]]; then
            log "$official exists and is not a local build: left as it is"
            return
        fi
    fi
    docker tag "$built" "$official"
    log "$official -> $built"
}

# Earlier builds of an image (other input hashes) that no name points to any more.
remove_superseded() {
    local name=$1 key=$2 tag
    for tag in $(docker image ls --format '{{.Repository}}:{{.Tag}}' "sift-local/$name"); do
        [[ $tag == "sift-local/$name:$key" ]] && continue
        docker image rm "$tag" >/dev/null 2>&1 && log "removed the superseded $tag" || true
    done
}

main() {
    if [[ ${1:-} == --list ]]; then
        for spec in "${IMAGES[@]}"; do official_name "$spec"; done
        return
    fi
    docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info failed)"

    local base_key base key spec name official started
    base_key=$(echo "$SUITE minbase $BASE_PACKAGES" | sha256sum | cut -c1-16)
    base=sift-local/base:$base_key
    started=$SECONDS
    if image_exists "$base"; then
        log "$base is built"
    else
        build_base "$base_key" "$base"
    fi

    jars
    for spec in "${IMAGES[@]}"; do
        name=$(local_name "$spec")
        official=$(official_name "$spec")
        if [[ $name == base ]]; then
            tag_official "$base" "$official"
            continue
        fi
        # shellcheck disable=SC2046 # folder lists by design
        key=$(
            {
                echo "$base_key"
                hash_inputs $(folders "$spec")
                [[ $name != maven ]] || host_repository_listing
            } | sha256sum | cut -c1-16
        )
        if [[ $name == maven && ! -d $HOST_REPOSITORY ]]; then
            die "no Maven repository at $HOST_REPOSITORY to seed the maven stand-in;" \
                "build the project first (mvn -B verify) or set SIFT_HOST_MAVEN_REPOSITORY"
        fi
        if image_exists "sift-local/$name:$key"; then
            log "sift-local/$name:$key is built"
        else
            [[ $name != maven ]] || maven_seed
            log "building sift-local/$name:$key ($official)"
            # The classic builder: these Dockerfiles need nothing of BuildKit.
            DOCKER_BUILDKIT=0 docker build --build-arg "BASE=$base" \
                --label "$LABEL=$name" --label "dev.sift.inputs=$key" \
                -f "$HERE/$name/Dockerfile" -t "sift-local/$name:$key" "$HERE" \
                >"$HERE/target/$name-build.log" 2>&1 || {
                tail -n 30 "$HERE/target/$name-build.log" >&2
                die "building $official's stand-in failed (deploy/images/$name/Dockerfile);" \
                    "log: deploy/images/target/$name-build.log"
            }
        fi
        tag_official "sift-local/$name:$key" "$official"
        remove_superseded "$name" "$key"
    done
    remove_superseded base "$base_key"
    log "done in $((SECONDS - started)) s"
}

main "$@"
