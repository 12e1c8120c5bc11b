package catena.it.runc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KubeletEnvTest {
    private static final KubeletEnv KUBELET = new KubeletEnv(
            Map.of("metadata.name", "w-0", "status.podIP", "10.0.0.7"),
            Map.of("cm", new ConfigMapBuilder().withNewMetadata().withName("cm").endMetadata()
                    .addToData("seeds", "a:1,b:2").build()));

    private static Container container() {
        return new ContainerBuilder().withCommand("catena").withArgs("serve", "--host", "$(HOST)", "--seeds",
                        "$(SEEDS)", "$$(HOST)", "$(UNSET)")
                .addNewEnv().withName("POD").withNewValueFrom().withNewFieldRef().withFieldPath("metadata.name")
                .endFieldRef().endValueFrom().endEnv()
                .addNewEnv().withName("HOST").withValue("$(POD).svc").endEnv()
                .addNewEnv().withName("EARLY").withValue("$(LATE)").endEnv()
                .addNewEnv().withName("LATE").withValue("x").endEnv()
                .addNewEnv().withName("SEEDS").withNewValueFrom().withNewConfigMapKeyRef().withName("cm")
                .withKey("seeds").endConfigMapKeyRef().endValueFrom().endEnv()
                .build();
    }

    @Test
    void shouldResolveFieldRefsConfigMapKeysAndEarlierVariablesWhenBuildingTheEnvironment() {
        Map<String, String> env = KUBELET.environment(container());
        assertThat(env).containsExactly(Map.entry("POD", "w-0"), Map.entry("HOST", "w-0.svc"),
                Map.entry("EARLY", "$(LATE)"), Map.entry("LATE", "x"), Map.entry("SEEDS", "a:1,b:2"));
    }

    @Test
    void shouldExpandArgsAndKeepEscapesAndUnknownNamesWhenBuildingTheCommandLine() {
        Container c = container();
        assertThat(KubeletEnv.commandLine(c, KUBELET.environment(c))).isEqualTo(List.of("catena", "serve",
                "--host", "w-0.svc", "--seeds", "a:1,b:2", "$(HOST)", "$(UNSET)"));
    }

    @Test
    void shouldNameTheVariableWhenAFieldRefIsUnknown() {
        Container c = new ContainerBuilder().addNewEnv().withName("NODE").withNewValueFrom().withNewFieldRef()
                .withFieldPath("spec.nodeName").endFieldRef().endValueFrom().endEnv().build();
        assertThatThrownBy(() -> KUBELET.environment(c)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("env NODE").hasMessageContaining("spec.nodeName");
    }
}
