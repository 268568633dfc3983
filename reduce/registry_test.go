package reduce

import (
	"reflect"
	"testing"
)

// TestKernelSetsComplete checks that every implementation this CPU runs,
// generic included, fills every kernel of the set: a kernel left out would
// be a nil function that only the path calling it finds.
func TestKernelSetsComplete(t *testing.T) {
	for _, k := range available {
		v := reflect.ValueOf(k).Elem()
		for i := range v.NumField() {
			if f := v.Field(i); f.Kind() == reflect.Func && f.IsNil() {
				t.Errorf("%s: kernel %s is nil", k.name, v.Type().Field(i).Name)
			}
		}
	}
	if len(available) == 0 || available[len(available)-1] != generic {
		t.Errorf("available does not end with generic")
	}
}
