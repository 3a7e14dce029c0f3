/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CU_DIAG_H
#define _CU_DIAG_H

int cu_diag_init(void);
void cu_diag_exit(void);

#endif /* _CU_DIAG_H */
