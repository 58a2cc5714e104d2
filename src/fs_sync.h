/* fs_sync.h - when one syncfs(2) may stand in for an fsync(2) of every file
 * of a batch.
 *
 * Each fsync on ext4 or XFS ends with a flush of the disk's write cache;
 * a batch of 256 messages paid 256 flushes.  syncfs makes every file of
 * the file system durable with one journal commit and one flush.  It is
 * trusted only where it reports errors as fsync would: Linux 5.8 and later
 * return any writeback error on the file system since the descriptor was
 * opened, and only on local file systems that keep their journal or log
 * in the kernel (ext2/3/4, XFS, Btrfs, F2FS).  Elsewhere, and on tmpfs,
 * NFS, FUSE or an older kernel, callers fsync each file. */
#ifndef POPFETCH_FS_SYNC_H
#define POPFETCH_FS_SYNC_H

/* 1 when syncfs(fd) may replace per-file fsyncs on fd's file system, 0 when
 * not (also when that cannot be told).  POPFETCH_NO_SYNCFS=1 in the
 * environment forces 0 (tests cover both ways). */
int fs_syncfs_trusted(int fd);

/* syncfs(fd): 0, or -1 with errno. */
int fs_syncfs(int fd);

#endif
