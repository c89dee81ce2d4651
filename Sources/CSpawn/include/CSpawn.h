#ifndef KMESH_CSPAWN_H
#define KMESH_CSPAWN_H
#include <spawn.h>

/* glibc calls that Swift's Glibc module does not declare (they need _GNU_SOURCE). */

/* pipe2(fds, O_CLOEXEC): a pipe whose ends are close-on-exec from their creation. */
int kmesh_pipe_cloexec(int fds[2]);

/* posix_spawn_file_actions_addclosefrom_np (glibc 2.34): the child closes every descriptor from
   `from` up before it execs. */
int kmesh_spawn_closefrom(posix_spawn_file_actions_t *actions, int from);

#endif
