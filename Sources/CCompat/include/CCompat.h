#ifndef KMESH_CCOMPAT_H
#define KMESH_CCOMPAT_H
/* Nothing to call: see compat.c. This header exists because SwiftPM C targets need one. */
int kmesh_compat_enabled(void);
#endif
