#ifndef KEYCARD_CLINUXSHIM_H
#define KEYCARD_CLINUXSHIM_H

#include <stdint.h>
#include <sys/types.h>
/// MSG_DONTWAIT and friends: not always visible through Swift's Glibc module in release builds.
#include <sys/socket.h>
/// epoll and eventfd: Swift's Glibc module does not include these headers.
#include <sys/epoll.h>
#include <sys/eventfd.h>

/// setns(2) on the calling thread; glibc hides it behind _GNU_SOURCE.
int kc_setns(int fd, int nstype);
/// unshare(2) on the calling thread; glibc hides it behind _GNU_SOURCE.
int kc_unshare(int flags);
/// CLONE_NEWNET, hidden behind _GNU_SOURCE.
int kc_clone_newnet(void);
/// ioctl(fd, SIOCGSKNS): an fd of the network namespace the socket lives in (-1 and errno on error).
int kc_socket_netns_fd(int sockfd);
/// prctl(PR_SET_PDEATHSIG, sig): not visible from Swift's Glibc (variadic).
int kc_set_parent_death_signal(int sig);
/// POSIX_SPAWN_SETSID (the child starts a session of its own), hidden behind _GNU_SOURCE.
int kc_posix_spawn_setsid_flag(void);
/// posix_spawn_file_actions_addclosefrom_np(actions, from): close every fd >= from in the child;
/// hidden behind _GNU_SOURCE. `actions` is a posix_spawn_file_actions_t *.
int kc_posix_spawn_file_actions_addclosefrom(void *actions, int from);

/// CLONE_NEWNS, hidden behind _GNU_SOURCE.
int kc_clone_newns(void);
int kc_clone_newuts(void);
/// A DNS query message asking `name` for A records, built by glibc's libresolv (res_nmkquery):
/// its length in `buffer` (at most `capacity` bytes), or -1 when the name cannot be encoded.
int kc_dns_query_message(const char *name, unsigned char *buffer, int capacity);

/// One DNS query through glibc's libresolv (res_ninit + res_nsearch + ns_parserr) with a private
/// resolver state: its only nameserver is `server_be` (IPv4, network byte order) on `port`, its
/// search list `search` (`search_count` names, at most 6), `ndots`, `timeout_seconds` per try (at
/// least 1) and `attempts` tries, and the flags of the pod's resolv.conf `options` (`option_count`
/// strings, as glibc's res_setoptions reads them: `use-vc` asks over TCP, `edns0`, ...); nothing of
/// the machine's /etc/resolv.conf is kept. The socket is created on the calling thread, in its
/// network namespace. Returns how many A records were copied to `addresses` (network order, at
/// most `capacity`), or -1 with `*failure` the resolver's h_errno (HOST_NOT_FOUND, NO_DATA,
/// TRY_AGAIN for no answer in time, NO_RECOVERY) and `*error_number` the errno seen.
int kc_dns_lookup_a(uint32_t server_be, uint16_t port, const char *name, const char *const *search, int search_count, int ndots,
                    int timeout_seconds, int attempts, const char *const *options, int option_count, uint32_t *addresses,
                    int capacity, int *failure, int *error_number);

/// Bytes the heap holds in use (glibc mallinfo2().uordblks): benchmarks of memory per meshed pod.
size_t kc_heap_in_use(void);

/// MSG_DONTWAIT, which Swift's Glibc module does not export in release builds.
static inline int kc_msg_dontwait(void) { return MSG_DONTWAIT; }

#endif
