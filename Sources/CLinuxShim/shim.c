#define _GNU_SOURCE
#include "CLinuxShim.h"
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

int kc_posix_spawnattr_setsid(void *attr) {
    return posix_spawnattr_setflags((posix_spawnattr_t *)attr, POSIX_SPAWN_SETSID);
}

int kc_posix_spawn_file_actions_addclosefrom(void *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np((posix_spawn_file_actions_t *)actions, from);
}
