/** Optional Spark support: a run's independent trainings as Spark tasks ({@code distill run CONFIG --spark MASTER}). */
package dev.distill.spark;
