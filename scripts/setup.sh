#!/bin/sh
# Set up handoutkit: system libraries and fonts (installed when this machine can, named when it
# cannot), then a virtualenv in .venv with the package. `make build`, `make test` and the
# Containerfile all run this script, so what the tests exercise is what the image runs.
#
#   scripts/setup.sh            what `handout` needs to build PDFs
#   scripts/setup.sh --test     also what the test suite needs, and Chromium for its one
#                               end-to-end test of the print desk
#
# Environment: PYTHON (default python3), VENV (default .venv), HANDOUTKIT_NO_INSTALL=1 (name
# missing system packages, never install them).
#
# Exits non-zero only when handoutkit cannot run (no Python 3.11+, no Pango): a missing font
# or test tool is named with the command that installs it, and the setup goes on.
set -eu
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
TEST=no
[ "${1:-}" = "--test" ] && TEST=yes

say() { printf 'setup: %s\n' "$*" >&2; }

# --- what is missing: probed directly, so this works on any Linux or macOS -------------------
# ldconfig is in /sbin, which a non-root user's PATH often lacks; macOS has none at all.
LDCONFIG=$(command -v ldconfig 2>/dev/null || { [ -x /sbin/ldconfig ] && echo /sbin/ldconfig; } || true)
have_lib() { # a shared library the dynamic linker (or Homebrew) can find
    { [ -n "$LDCONFIG" ] && "$LDCONFIG" -p 2>/dev/null | grep -q "$1"; } ||
        ls /usr/lib/*/"$1"* /usr/lib/"$1"* /lib/*/"$1"* /usr/lib64/"$1"* /lib64/"$1"* \
            /usr/local/lib/"$1"* /opt/homebrew/lib/"$1"* /usr/local/opt/*/lib/"$1"* \
            >/dev/null 2>&1
}
have_font() { command -v fc-list >/dev/null && fc-list : family | grep -qi "^$1\(,\|$\)"; }
have_cmd() { command -v "$1" >/dev/null 2>&1; }

# Each line: what it is | how to probe | Debian package | Fedora package | Homebrew | needed for
CHECKS="Pango (text layout)|have_lib libpango-1.0|libpango-1.0-0|pango|pango|run
PangoFT2|have_lib libpangoft2-1.0|libpangoft2-1.0-0|pango|pango|run
HarfBuzz subsetter (small PDFs, 5x faster)|have_lib libharfbuzz-subset|libharfbuzz-subset0|harfbuzz|harfbuzz|fonts
fontconfig|have_cmd fc-match|fontconfig|fontconfig|fontconfig|fonts
Noto Sans (Latin, Vietnamese)|have_font 'Noto Sans'|fonts-noto-core|google-noto-sans-fonts|font-noto-sans|fonts
Noto Sans Arabic|have_font 'Noto Sans Arabic'|fonts-noto-core|google-noto-sans-arabic-fonts|font-noto-sans-arabic|fonts
Noto Sans Thai|have_font 'Noto Sans Thai'|fonts-noto-core|google-noto-sans-thai-fonts|font-noto-sans-thai|fonts
Noto Sans CJK SC (Chinese)|have_font 'Noto Sans CJK SC'|fonts-noto-cjk|google-noto-sans-cjk-fonts|font-noto-sans-cjk|fonts
DejaVu Sans|have_font 'DejaVu Sans'|fonts-dejavu-core|dejavu-sans-fonts|font-dejavu|fonts
poppler (pdftotext, pdftoppm)|have_cmd pdftoppm|poppler-utils|poppler-utils|poppler|test
GNU gettext (msgcat, msgmerge)|have_cmd msgmerge|gettext|gettext|gettext|test
tini (the container's PID 1)|have_cmd tini|tini|tini|tini|test
Chromium|have_cmd chromium|chromium|chromium|--cask chromium|browser
ChromeDriver|have_cmd chromedriver|chromium-driver|chromedriver|--cask chromedriver|browser
npm (installs axe-core, the accessibility checker the site's tests run)|have_cmd npm|npm|npm|node|test"

missing() { # the lines whose probe fails, for the wanted purposes
    echo "$CHECKS" | while IFS='|' read -r what probe deb rpm brew need; do
        case "$need" in
            run|fonts) ;;
            test|browser) [ "$TEST" = yes ] || continue ;;
        esac
        eval "$probe" || echo "$what|$deb|$rpm|$brew|$need"
    done
}

gaps=$(missing)
# HANDOUTKIT_NO_INSTALL=1: only name what is missing (a packager's or an admin's machine).
if [ -n "$gaps" ] && have_cmd apt-get && [ -z "${HANDOUTKIT_NO_INSTALL:-}" ]; then
    SUDO=
    if [ "$(id -u)" != 0 ]; then
        if have_cmd sudo && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
    fi
    if [ "$SUDO" != none ]; then
        packages=$(echo "$gaps" | cut -d'|' -f2 | sort -u | tr '\n' ' ')
        say "installing Debian packages: $packages"
        $SUDO apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
                $packages >/dev/null || say "apt-get failed; the missing pieces are listed below"
        gaps=$(missing)
    fi
fi
if [ -n "$gaps" ]; then
    say "missing on this machine (install them, then run this again):"
    echo "$gaps" | while IFS='|' read -r what deb rpm brew need; do
        case "$need" in
            run) why="handoutkit cannot run without it" ;;
            fonts) why="PDFs in some scripts are refused or slow without it" ;;
            test) why="some tests are skipped without it" ;;
            browser) why="the print desk's end-to-end test is skipped without it" ;;
        esac
        say "  - $what ($why): apt install $deb | dnf install $rpm | brew install $brew"
    done
fi

# --- the virtualenv ---------------------------------------------------------------------------
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    say "handoutkit needs Python 3.11 or newer as $PYTHON (set PYTHON=/path/to/python3.11)"
    exit 1
fi
extras=; [ "$TEST" = yes ] && extras='[test]'
stamp="$VENV/.installed$extras"
fresh() { [ -f "$1" ] && [ ! pyproject.toml -nt "$1" ]; }
# A virtualenv set up for the tests has everything a build needs.
if ! fresh "$stamp" && ! fresh "$VENV/.installed[test]"; then
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV" || {
        say "could not make a virtualenv: install python3-venv (Debian) and run this again"
        exit 1
    }
    "$VENV/bin/pip" install -q --disable-pip-version-check -e ".$extras"
    touch "$stamp"
fi
# axe-core for the online version's accessibility tests, from npm into the virtualenv.
AXE_VERSION=4.14.1
if [ "$TEST" = yes ] && [ ! -f "$VENV/axe/node_modules/axe-core/axe.min.js" ]; then
    if have_cmd npm; then
        npm install --silent --no-audit --no-fund --prefix "$VENV/axe" "axe-core@$AXE_VERSION" \
            >/dev/null 2>&1 || say "could not install axe-core $AXE_VERSION from npm: the site's accessibility test will fail"
    else
        say "npm is missing: the site's accessibility test needs axe-core (apt-get install npm)"
    fi
fi
# The package's modules compiled once, here: an editable install leaves them as source, and
# where PYTHONDONTWRITEBYTECODE is set no process keeps what it compiles, so every `handout`
# process (and every test's) would compile all of them again.
"$VENV/bin/python" -m compileall -q src >/dev/null || say "could not compile src/ (each run will)"
if ! "$VENV/bin/python" -c 'import weasyprint' 2>/dev/null; then
    say "WeasyPrint cannot load Pango: install it (see above) and run this again"
    exit 1
fi
say "ready: $VENV/bin/handout"
