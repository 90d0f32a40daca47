/* SPDX-License-Identifier: GPL-2.0-only */
/* Stand-in for the kernel's <linux/types.h>: everything is in spterace/kernel.h. */
#include "spterace/kernel.h"
