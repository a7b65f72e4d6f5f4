#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every tracked source file carries an SPDX-License-Identifier line: this
# adds the missing ones (the licence its directory is under, LICENSE) in
# the file's own comment syntax, after a #! line.  Lines already there are
# left alone.
#
# usage: scripts/spdx.sh           add the missing identifiers
#        scripts/spdx.sh --check   only list the files without one (exit 1)
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
[[ ${1:-} == --check ]] && check=1

# licence_of PATH: the identifier a file under PATH gets (LICENSE says why)
licence_of() {
	case "$1" in
	uapi/*) echo "GPL-2.0 WITH Linux-syscall-note" ;;
	module/* | tests/kmod/*) echo "GPL-2.0" ;;
	# copied into every SVG the CLI writes: those must be free to share
	flame/src/svg_script.js) echo "MIT" ;;
	*) echo "GPL-2.0-or-later" ;;
	esac
}

# comment_of PATH: the line carrying ID in the file's syntax, or nothing
# for a file that is not source
comment_of() {
	local f=$1 id=$2
	case "$f" in
	*.md | *.png | *.svg | *.re | *.txt | LICENSE* | .gitignore | build.log) return ;;
	# a Kconfig fragment whose hash names the cached debug kernel: a new
	# line would rebuild that kernel everywhere
	*.config) return ;;
	# kernel style: C comments in headers, C++ comments in .c files
	module/*.h | module/*/*.h | uapi/*.h | tests/kmod/*.h) echo "/* SPDX-License-Identifier: $id */" ;;
	*.c | *.h | *.cpp | *.hpp | *.js | *.inc.in) echo "// SPDX-License-Identifier: $id" ;;
	*.sh | *.py | *.conf | *.cmake | Makefile | */Makefile | Kbuild | */Kbuild | CMakeLists.txt | */CMakeLists.txt)
		echo "# SPDX-License-Identifier: $id" ;;
	*)
		# scripts without an extension
		if head -c 2 "$f" | grep -q '^#!'; then
			echo "# SPDX-License-Identifier: $id"
		fi
		;;
	esac
}

lacking=0
while IFS= read -r f; do
	[[ -f $f ]] || continue
	line=$(comment_of "$f" "$(licence_of "$f")")
	[[ -n $line ]] || continue
	head -n 3 "$f" | grep -q 'SPDX-License-Identifier:' && continue
	if ((check)); then
		echo "$f"
		lacking=$((lacking + 1))
		continue
	fi
	if head -c 2 "$f" | grep -q '^#!'; then
		{ head -n 1 "$f"; echo "$line"; tail -n +2 "$f"; } >"$f.spdx"
	else
		{ echo "$line"; cat "$f"; } >"$f.spdx"
	fi
	chmod --reference="$f" "$f.spdx"
	mv "$f.spdx" "$f"
	echo "added: $f"
done < <(git ls-files)

if ((check && lacking)); then
	echo "spdx: $lacking files without an SPDX-License-Identifier (run scripts/spdx.sh)" >&2
	exit 1
fi
exit 0
