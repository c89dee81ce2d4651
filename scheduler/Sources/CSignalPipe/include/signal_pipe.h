#ifndef KMESH_SIGNAL_PIPE_H
#define KMESH_SIGNAL_PIPE_H

/// Installs handlers for SIGTERM, SIGINT, SIGHUP and SIGCHLD that write the signal's number, one
/// byte, to `fd` (the write end of a non-blocking pipe): the self-pipe trick, so that whichever
/// thread the kernel picks (the Swift runtime's main thread sleeps in sigsuspend with an empty mask)
/// the signal reaches the scheduler's loop. Returns 0, or -1 with errno set.
int kmesh_install_signal_pipe(int fd);

#endif
