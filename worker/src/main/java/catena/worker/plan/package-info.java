/** Pure functions that plan a pipeline (how layers are cut into stages). */
package catena.worker.plan;
