#ifndef KEYCARD_CNETLINKROUTE_SHIM_H
#define KEYCARD_CNETLINKROUTE_SHIM_H

// libnl-route-3: links (veth), addresses and routes built as netlink messages; keycard sends them
// through its own transport (KeycardKernel's NetlinkSocket), not libnl's socket.
// glibc's headers first, so linux/libc-compat.h suppresses the uapi duplicates of in6_addr & co.
#include <netinet/in.h>
#include <net/if.h>

#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/neighbour.h>

#endif
