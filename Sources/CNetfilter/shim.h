#ifndef KEYCARD_CNETFILTER_SHIM_H
#define KEYCARD_CNETFILTER_SHIM_H

// glibc's headers first, so linux/libc-compat.h suppresses the uapi duplicates of in6_addr & co.
#include <netinet/in.h>
#include <net/if.h>
#include <unistd.h>
#include <stdint.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
#include <libnftnl/batch.h>
#include <libnftnl/udata.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

/// Wraps the macro MNL_SOCKET_BUFFER_SIZE (not importable: "structure not supported").
static inline size_t kc_mnl_socket_buffer_size(void) { return MNL_SOCKET_BUFFER_SIZE; }

#endif
