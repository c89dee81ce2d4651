#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "signal_pipe.h"

static int signal_fd = -1;

static void on_signal(int sig) {
    int saved = errno;  // a handler must leave errno as it found it
    unsigned char byte = (unsigned char)sig;
    if (signal_fd >= 0) {
        ssize_t ignored = write(signal_fd, &byte, 1);
        (void)ignored;
    }
    errno = saved;
}

int kmesh_install_signal_pipe(int fd) {
    signal_fd = fd;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    int signals[] = {SIGTERM, SIGINT, SIGHUP, SIGCHLD};
    for (unsigned i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        if (sigaction(signals[i], &sa, 0) != 0) return -1;
    }
    return 0;
}
