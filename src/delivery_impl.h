/* delivery_impl.h - the destinations delivery.c's table knows; each is
 * defined in its own src/delivery_KIND.c and follows delivery.h's
 * contract.  Only delivery.c and the unit tests include this. */
#ifndef POPFETCH_DELIVERY_IMPL_H
#define POPFETCH_DELIVERY_IMPL_H

#include "delivery.h"

extern const struct delivery_ops delivery_maildir_ops;
extern const struct delivery_ops delivery_mbox_ops;
extern const struct delivery_ops delivery_mda_ops;
extern const struct delivery_ops delivery_lmtp_ops;

#endif
