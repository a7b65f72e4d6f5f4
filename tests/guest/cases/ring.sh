# SPDX-License-Identifier: GPL-2.0-or-later
# The per-CPU ring on its own (tests/kmod/ring_test.ko compiles module/ring.c
# in): writers in process and interrupt context on every CPU, random record
# sizes (so that 8-byte gaps at the end of the buffer happen), trimmed
# records, nested writers, a reader draining all the while, some drains into
# a buffer that faults part-way.  ring_stress checks that every reservation
# was delivered or counted lost, exactly, with nothing vanishing silently.

# ring_run KIB MAXREC SECONDS
ring_run() {
	local out
	out=$("$PROGS/ring_stress" "$@" 2>&1)
	local rc=$?
	printf '%s\n' "$out" | sed 's/^/  /'
	((rc == 0)) || fail "ring_stress $*: exit $rc"
}

test_ring_every_record_delivered_or_counted() {
	insmod "$RING_TEST_KO" || { fail "insmod $RING_TEST_KO"; return 1; }
	# the smallest ring: 1 KiB per CPU, records up to 200 bytes
	ring_run 1 200 4
	# a few records per ring, up to half of it
	ring_run 4 2048 3
	# a larger ring with mostly small records
	ring_run 64 120 3
	rmmod ring_test || fail "rmmod ring_test"
}
register_test test_ring_every_record_delivered_or_counted
