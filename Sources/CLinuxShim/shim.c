#define _GNU_SOURCE
#include "CLinuxShim.h"
#include <malloc.h>
#include <sched.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <linux/sockios.h>

int kc_setns(int fd, int nstype) { return setns(fd, nstype); }
int kc_unshare(int flags) { return unshare(flags); }
int kc_clone_newnet(void) { return CLONE_NEWNET; }
int kc_socket_netns_fd(int sockfd) { return ioctl(sockfd, SIOCGSKNS); }
int kc_set_parent_death_signal(int sig) { return prctl(PR_SET_PDEATHSIG, (unsigned long)sig, 0, 0, 0); }

int kc_posix_spawn_setsid_flag(void) { return POSIX_SPAWN_SETSID; }

int kc_posix_spawn_file_actions_addclosefrom(void *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np((posix_spawn_file_actions_t *)actions, from);
}

int kc_clone_newns(void) { return CLONE_NEWNS; }
int kc_clone_newuts(void) { return CLONE_NEWUTS; }

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

int kc_dns_query_message(const char *name, unsigned char *buffer, int capacity) {
    struct __res_state state;
    memset(&state, 0, sizeof state);
    // res_ninit reads /etc/resolv.conf; only its query id generator is used here.
    if (res_ninit(&state) != 0) return -1;
    int length = res_nmkquery(&state, ns_o_query, name, ns_c_in, ns_t_a, NULL, 0, NULL, buffer, capacity);
    res_nclose(&state);
    return length;
}

// The flag of one resolv.conf option as glibc's res_setoptions (resolv/res_init.c) reads it: by
// prefix, in that table's order; 0 for ndots:, timeout:, attempts: (the caller's fields) and names
// glibc ignores.
static unsigned long kc_resolver_option_flag(const char *option) {
    static const struct {
        const char *name;
        unsigned long flag;
    } table[] = {
        {"rotate", RES_ROTATE},
        {"edns0", RES_USE_EDNS0},
        {"single-request-reopen", RES_SNGLKUPREOP},
        {"single-request", RES_SNGLKUP},
        {"no_tld_query", RES_NOTLDQUERY},
        {"no-tld-query", RES_NOTLDQUERY},
        {"no-reload", RES_NORELOAD},
        {"use-vc", RES_USEVC},
#ifdef RES_TRUSTAD
        {"trust-ad", RES_TRUSTAD},
#endif
#ifdef RES_NOAAAA
        {"no-aaaa", RES_NOAAAA},
#endif
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strncmp(option, table[i].name, strlen(table[i].name)) == 0) return table[i].flag;
    }
    return 0;
}

int kc_dns_lookup_a(uint32_t server_be, uint16_t port, const char *name, const char *const *search, int search_count, int ndots,
                    int timeout_seconds, int attempts, const char *const *options, int option_count, uint32_t *addresses,
                    int capacity, int *failure, int *error_number) {
    struct __res_state state;
    memset(&state, 0, sizeof state);
    *failure = 0;
    *error_number = 0;
    // res_ninit reads the machine's /etc/resolv.conf (and RES_OPTIONS, LOCALDOMAIN): everything it
    // sets that a query reads is replaced below by the pod's file, so nothing of the host's leaks.
    if (res_ninit(&state) != 0) {
        *failure = NO_RECOVERY;
        *error_number = errno;
        return -1;
    }
    // One IPv4 nameserver: glibc's get_nsaddr takes nsaddr_list[0] once its family is set.
    state.nscount = 1;
    memset(&state.nsaddr_list[0], 0, sizeof state.nsaddr_list[0]);
    state.nsaddr_list[0].sin_family = AF_INET;
    state.nsaddr_list[0].sin_port = htons(port);
    state.nsaddr_list[0].sin_addr.s_addr = server_be;
    state.nsort = 0;
    state.retrans = timeout_seconds < 1 ? 1 : timeout_seconds;
    state.retry = attempts < 1 ? 1 : attempts;
    state.ndots = ndots < 0 ? 0 : (ndots > 15 ? 15 : ndots);
    // The options a resolv.conf without an `options` line gives (RES_DEFAULT), then the pod's.
    state.options = RES_INIT | RES_DEFAULT;
    for (int i = 0; i < option_count; i++) state.options |= kc_resolver_option_flag(options[i]);
    int count = search_count < 0 ? 0 : (search_count > MAXDNSRCH ? MAXDNSRCH : search_count);
    for (int i = 0; i < count; i++) state.dnsrch[i] = (char *)search[i];
    state.dnsrch[count] = NULL;

    // Room for any answer over TCP (a headless Service with many endpoints), and UDP answers
    // over 512 bytes come back truncated (TC): glibc then asks again over TCP (res_send.c
    // send_dg), as a program's lookup does. With edns0, res_nsearch offers its buffer's size in the
    // OPT record (res_query.c: `advertise = anslen` without a growable buffer), where a program's
    // getaddrinfo offers RESOLV_EDNS_BUFFER_SIZE (1200): the search gets a 1200-byte buffer, so
    // the server truncates where it would for the program.
    enum { full_size = 65536, edns_offer = 1200 };
    unsigned char *answer = calloc(full_size, 1);
    if (answer == NULL) {
        *failure = NETDB_INTERNAL;
        *error_number = ENOMEM;
        res_nclose(&state);
        return -1;
    }
    int buffer_size = (state.options & RES_USE_EDNS0) ? edns_offer : full_size;
    errno = 0;
    int length = res_nsearch(&state, name, ns_c_in, ns_t_a, answer, buffer_size);
    if (length > buffer_size) {
        // Over TCP an answer larger than the buffer keeps only its start (send_vc truncates and
        // returns the full length): its question is intact; ask it again over TCP, whole.
        char asked[NS_MAXDNAME];
        if (dn_expand(answer, answer + buffer_size, answer + NS_HFIXEDSZ, asked, sizeof asked) < 0) {
            length = -1;
            state.res_h_errno = NO_RECOVERY;
            errno = EBADMSG;
        } else {
            state.options = (state.options | RES_USEVC) & ~RES_USE_EDNS0;
            errno = 0;
            length = res_nquery(&state, asked, ns_c_in, ns_t_a, answer, full_size);
        }
    }
    if (length < 0) {
        *failure = state.res_h_errno;
        *error_number = errno;
        res_nclose(&state);
        free(answer);
        return -1;
    }
    res_nclose(&state);
    ns_msg message;
    if (ns_initparse(answer, length > full_size ? full_size : length, &message) != 0) {
        *failure = NO_RECOVERY;
        *error_number = EBADMSG;
        free(answer);
        return -1;
    }
    int found = 0;
    int records = ns_msg_count(message, ns_s_an);
    for (int i = 0; i < records && found < capacity; i++) {
        ns_rr record;
        if (ns_parserr(&message, ns_s_an, i, &record) != 0) break;
        if (ns_rr_type(record) != ns_t_a || ns_rr_rdlen(record) != 4) continue;
        memcpy(&addresses[found++], ns_rr_rdata(record), 4);
    }
    free(answer);
    return found;
}

size_t kc_heap_in_use(void) { return mallinfo2().uordblks; }
