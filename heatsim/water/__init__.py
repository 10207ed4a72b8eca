"""The water model: rain on the grid, infiltration, sewers, culverts and 2-D overland flow."""
